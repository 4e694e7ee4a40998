using PluginHost.Contracts.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

public sealed class UnitManifestReaderTests
{
    private const string Minimal = """
        apiVersion: pluginhost/v1
        kind: worker
        name: api
        spec:
          command: /bin/echo
        """;

    [Fact]
    public void A_minimal_manifest_gets_the_host_defaults()
    {
        var unit = ManifestText.Valid(Minimal);

        Assert.Equal("api", unit.Name);
        Assert.Equal("worker", unit.Kind);
        Assert.True(unit.Enabled);
        Assert.True(unit.Autostart);
        Assert.Equal(RestartSettings.Default, unit.Restart);
        Assert.Equal(StopSettings.Default, unit.Stop);
        Assert.Null(unit.Health.Readiness);
    }

    [Fact]
    public void Every_host_owned_section_is_read()
    {
        var unit = ManifestText.Valid("""
            apiVersion: pluginhost/v1
            kind: worker
            name: api
            description: The API
            enabled: false
            autostart: false
            after: [db, cache]
            restart:
              policy: always
              backoff: { initial: 250ms, max: 30s, multiplier: 3, jitter: 0.1 }
              resetAfter: 2m
              limit: { restarts: 3, window: 10s }
              minInterval: 5s
            health:
              startTimeout: 45s
              readiness: { http: { path: /health, port: http }, interval: 1s, timeout: 500ms, failureThreshold: 2 }
              liveness: { tcp: http, interval: 10s }
            stop: { signal: SIGINT, grace: 2s }
            ports:
              http: 8080
              metrics: { preferred: 9100, scan: 3 }
            env:
              API_KEY: s3cret
              LOG_LEVEL: { value: debug, public: true }
            spec:
              command: /bin/echo
              args: [hello]
            """);

        Assert.Equal("The API", unit.Description);
        Assert.False(unit.Enabled);
        Assert.False(unit.Autostart);
        Assert.Equal(["db", "cache"], unit.After);
        Assert.Equal(new RestartSettings
        {
            Policy = RestartPolicy.Always,
            InitialBackoff = TimeSpan.FromMilliseconds(250),
            MaxBackoff = TimeSpan.FromSeconds(30),
            Multiplier = 3,
            Jitter = 0.1,
            ResetAfter = TimeSpan.FromMinutes(2),
            MaxRestarts = 3,
            Window = TimeSpan.FromSeconds(10),
            MinInterval = TimeSpan.FromSeconds(5),
        }, unit.Restart);
        Assert.Equal(TimeSpan.FromSeconds(45), unit.Health.StartTimeout);
        Assert.Equal(new HttpProbe("/health", "http") { Interval = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromMilliseconds(500), FailureThreshold = 2 }, unit.Health.Readiness);
        Assert.Equal(new TcpProbe("http") { Interval = TimeSpan.FromSeconds(10) }, unit.Health.Liveness);
        Assert.Equal(new StopSettings(UnixSignal.Int, TimeSpan.FromSeconds(2)), unit.Stop);
        Assert.Equal([new("http", 8080), new("metrics", 9100, 3)], unit.Ports);
        Assert.False(unit.Env["API_KEY"].Public);
        Assert.True(unit.Env["LOG_LEVEL"].Public);
        Assert.Equal("debug", unit.Env["LOG_LEVEL"].Value);
    }

    [Fact]
    public void A_typo_in_a_key_is_an_error_with_position_and_suggestion()
    {
        var (unit, problems) = ManifestText.Read(Minimal + "\nrestrat: always\n");

        Assert.Null(unit);
        var problem = Assert.Single(problems);
        Assert.Equal("unit.yaml", problem.File);
        Assert.Equal(6, problem.Line);
        Assert.Equal(1, problem.Column);
        Assert.Equal("restrat", problem.Path);
        Assert.Contains("unknown key \"restrat\" (did you mean \"restart\"?)", problem.Found, StringComparison.Ordinal);
        Assert.Contains("restart", problem.Expected, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var (_, problems) = ManifestText.Read("""
            apiVersion: pluginhost/v2
            kind: worker
            name: "bad name"
            restart: sometimes
            stop: { signal: SIGTERM, grace: soon }
            ports: { http: 70000 }
            spec:
              args: [a]
            """);

        Assert.Equal(
            ["apiVersion", "name", "ports.http", "restart", "spec.command", "stop.grace"],
            problems.Select(p => p.Path).Order(StringComparer.Ordinal));
        Assert.All(problems, p => Assert.True(p.Line > 0, p.ToString()));
        Assert.Contains(problems, p => p.Path == "restart" && p.Found.Contains("sometimes", StringComparison.Ordinal) && p.Expected == "one of always, on-failure, never");
        Assert.Contains(problems, p => p.Path == "stop.grace" && p.Line == 5 && p.Expected.Contains("5s", StringComparison.Ordinal));
    }

    [Fact]
    public void A_plugin_validates_its_own_spec_and_its_problems_carry_positions()
    {
        var (_, problems) = ManifestText.Read("""
            apiVersion: pluginhost/v1
            kind: worker
            name: api
            spec:
              comand: /bin/echo
            """);

        Assert.Collection(problems.OrderBy(p => p.Path, StringComparer.Ordinal),
            typo =>
            {
                Assert.Equal("spec.comand", typo.Path);
                Assert.Equal((5, 3), (typo.Line, typo.Column));
                Assert.Contains("did you mean \"command\"", typo.Found, StringComparison.Ordinal);
            },
            missing =>
            {
                Assert.Equal("spec.command", missing.Path);
                Assert.Equal(5, missing.Line);
            });
    }

    [Fact]
    public void An_unknown_kind_names_the_kinds_that_exist_and_why_one_is_missing()
    {
        var (_, unknown) = ManifestText.Read(Minimal.Replace("kind: worker", "kind: wroker", StringComparison.Ordinal));
        var (_, broken) = ManifestText.Read(Minimal.Replace("kind: worker", "kind: broken", StringComparison.Ordinal));

        var problem = Assert.Single(unknown);
        Assert.Contains("did you mean \"worker\"", problem.Found, StringComparison.Ordinal);
        Assert.Equal("one of sidecar, worker", problem.Expected);
        Assert.Contains("failed to load: boom", Assert.Single(broken).Found, StringComparison.Ordinal);
    }

    [Fact]
    public void Kind_defaults_apply_where_the_manifest_is_silent_and_the_manifest_wins_where_it_speaks()
    {
        var silent = ManifestText.Valid("""
            apiVersion: pluginhost/v1
            kind: sidecar
            name: llm
            """);
        var explicitly = ManifestText.Valid("""
            apiVersion: pluginhost/v1
            kind: sidecar
            name: llm
            autostart: true
            ports: { api: 9000 }
            health: { startTimeout: 10s }
            """);

        Assert.False(silent.Autostart);
        Assert.Equal([new("api", 11435)], silent.Ports);
        Assert.Equal(TimeSpan.FromSeconds(120), silent.Health.StartTimeout);
        Assert.Equal(new HttpProbe("/v1/models", "api"), silent.Health.Readiness);

        Assert.True(explicitly.Autostart);
        Assert.Equal([new("api", 9000)], explicitly.Ports);
        Assert.Equal(TimeSpan.FromSeconds(10), explicitly.Health.StartTimeout);
        Assert.Equal(new HttpProbe("/v1/models", "api"), explicitly.Health.Readiness);
    }

    [Fact]
    public void A_probe_on_an_undeclared_port_is_an_error()
    {
        var (_, problems) = ManifestText.Read(Minimal + """

            ports: { http: 8080 }
            health:
              readiness: { tcp: { port: grpc } }
            """);

        var problem = Assert.Single(problems);
        Assert.Contains("port \"grpc\"", problem.Found, StringComparison.Ordinal);
        Assert.Contains("http", problem.Expected, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: ../etc")]
    [InlineData("name: a/b")]
    [InlineData("name: .hidden")]
    [InlineData("name: ''")]
    public void Names_that_could_reach_the_file_system_are_refused(string nameLine)
    {
        var (unit, problems) = ManifestText.Read(Minimal.Replace("name: api", nameLine, StringComparison.Ordinal));

        Assert.Null(unit);
        Assert.Contains(problems, p => p.Path == "name");
    }

    [Fact]
    public void The_fingerprint_ignores_comments_order_and_positions_but_not_values()
    {
        var a = ManifestText.Valid(Minimal);
        var b = ManifestText.Valid("""
            # a comment
            name: api
            kind: worker

            apiVersion: pluginhost/v1
            spec: { command: /bin/echo }
            """);
        var c = ManifestText.Valid(Minimal.Replace("/bin/echo", "/bin/cat", StringComparison.Ordinal));

        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.NotEqual(a.Fingerprint, c.Fingerprint);
    }
}
