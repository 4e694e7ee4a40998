using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Units;
using PluginHost.Core.Plugins;
using PluginHost.Core.Processes;
using PluginHost.Core.Supervision;
using Xunit;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// The promises a unit kind keeps once its units run, checked in the real <c>pluginhost</c> host
/// (a child process, through its HTTP API) rather than by calling the driver: start and stop are
/// idempotent; a stop ends within the grace with no process of the unit's session left; a crash is
/// restarted, or with <c>restart: never</c> left down with a coded error; a unit that cannot run
/// fails with a code and a remedy; the lifecycle events follow the documented table; a running unit
/// keeps its process through a plugin reload and through a host <c>kill -9</c> and restart.
/// A plugin's test project derives one class per kind and says what a running and a failing unit of
/// it look like (docs/plugin-authoring.md).
/// </summary>
public abstract class UnitContractTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private HostUnderTest _host = null!;

    /// <summary>The plugin's build output folder (with plugin.yaml).</summary>
    protected abstract string PluginFolder { get; }

    /// <summary>The unit kind under test.</summary>
    protected abstract string Kind { get; }

    /// <summary>The YAML of a <c>spec:</c> whose unit runs (and becomes ready) until it is stopped.</summary>
    protected abstract string RunningSpec { get; }

    /// <summary>The YAML of a <c>spec:</c> that validates but whose unit cannot run (a program that is not there…).</summary>
    protected abstract string FailingSpec { get; }

    /// <summary>Other built plugin folders the kind needs beside it in the host.</summary>
    protected virtual IReadOnlyList<string> OtherPlugins => [];

    /// <summary>A unit that is restarted at once after a crash: its spec and its manifest's supervision lines (a kind with a policy of its own says it its way).</summary>
    protected virtual (string Spec, string Supervision) Restarting => (RunningSpec, "restart: { policy: always, backoff: { initial: 100ms, max: 1s } }");

    /// <summary>A unit that stays down after a crash.</summary>
    protected virtual (string Spec, string Supervision) StayingDown => (RunningSpec, "restart: never");

    /// <summary>Manifest lines every unit of the tests gets (an <c>env:</c> the kind's program reads…).</summary>
    protected virtual string ManifestLines => "";

    /// <summary>The unit's stop grace as its manifest or kind sets it: a stop must end within it (plus the host's own slack).</summary>
    protected virtual TimeSpan StopGrace => TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether a running unit keeps its process across a host <c>kill -9</c> (re-attached by the next
    /// host). A kind that cannot (pty-session: the terminal's master dies with the host) says so, and
    /// the kit checks instead that the next host starts the unit afresh with nothing of the old one left.
    /// </summary>
    protected virtual bool KeptAcrossHostRestart => true;

    /// <summary>Writes what the specs refer to (an app folder, a package) into the manifests folder before the host starts.</summary>
    protected virtual void Prepare(string manifestsFolder)
    {
    }

    public Task InitializeAsync()
    {
        _host = new HostUnderTest("unit-contract");
        RepositoryLayout.CopyPlugin(PluginFolder, _host.Dir.Combine("plugins"));
        foreach (var other in OtherPlugins)
        {
            RepositoryLayout.CopyPlugin(other, _host.Dir.Combine("plugins"));
        }

        _host.WriteHostYaml(plugins: "../plugins");
        Prepare(_host.Dir.Combine("manifests"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private string PluginName => PluginDescriptorReader.Read(PluginFolder).Descriptor?.Name
        ?? throw new Xunit.Sdk.XunitException($"{PluginFolder} has no readable plugin.yaml");

    [Fact]
    public async Task Start_and_stop_are_idempotent_and_a_stop_leaves_no_process_of_the_unit()
    {
        WriteUnit("unit-a", RunningSpec);
        await StartHostAsync();

        var first = await PostAsync("unit-a", "start");
        var second = await PostAsync("unit-a", "start");
        Assert.True(first.GetProperty("success").GetBoolean() && second.GetProperty("success").GetBoolean(), $"start refused: {first} / {second}");
        var ready = await WaitForAsync("unit-a", s => State(s) == "ready", "unit-a to be ready");
        var pid = Pid(ready);
        Assert.Equal(pid, Pid((await PostAsync("unit-a", "start")).GetProperty("status")));
        var session = SessionOf(pid);

        var stopwatch = Stopwatch.StartNew();
        var stop = await PostAsync("unit-a", "stop");
        Assert.True(stop.GetProperty("success").GetBoolean(), $"stop refused: {stop}");
        await WaitForAsync("unit-a", s => State(s) == "stopped", "unit-a to be stopped");
        stopwatch.Stop();
        Assert.True(stopwatch.Elapsed < StopGrace + TimeSpan.FromSeconds(5), $"the stop took {stopwatch.Elapsed.TotalSeconds:F1} s, beyond its grace of {StopGrace.TotalSeconds:F0} s");
        Assert.Empty(LeftOf(session));
        var again = await PostAsync("unit-a", "stop");
        Assert.True(again.GetProperty("success").GetBoolean(), $"a second stop was refused: {again}");
        Assert.Equal("stopped", State(_host.Unit("unit-a")!.Value));

        AssertLegalLifecycle("unit-a");
    }

    [Fact]
    public async Task A_crash_is_restarted_and_with_restart_never_the_unit_stays_down_with_a_coded_error()
    {
        WriteUnit("unit-restarts", Restarting.Spec, Restarting.Supervision);
        WriteUnit("unit-stays-down", StayingDown.Spec, StayingDown.Supervision);
        await StartHostAsync();
        await PostAsync("unit-restarts", "start");
        await PostAsync("unit-stays-down", "start");
        var restarts = Pid(await WaitForAsync("unit-restarts", s => State(s) == "ready", "unit-restarts to be ready"));
        var staysDown = Pid(await WaitForAsync("unit-stays-down", s => State(s) == "ready", "unit-stays-down to be ready"));

        KillProcess(restarts);
        KillProcess(staysDown);

        var restarted = await WaitForAsync("unit-restarts", s => State(s) == "ready" && Pid(s) != restarts, "unit-restarts to run a new process");
        Assert.True(restarted.GetProperty("restarts").GetInt32() >= 1, $"a restart not counted: {restarted}");
        var down = await WaitForAsync("unit-stays-down", s => State(s) is "failed" or "stopped", "unit-stays-down to stay down");
        Assert.Equal(JsonValueKind.Null, down.GetProperty("pid").ValueKind);
        AssertCoded(down, "a crash under restart: never");
        Assert.False(IsAlive(staysDown));

        await PostAsync("unit-restarts", "stop");
        await WaitForAsync("unit-restarts", s => State(s) == "stopped", "unit-restarts to be stopped");
        AssertLegalLifecycle("unit-restarts");
        AssertLegalLifecycle("unit-stays-down");
    }

    [Fact]
    public async Task A_unit_that_cannot_run_fails_with_a_code_and_a_remedy()
    {
        WriteUnit("unit-cannot-run", FailingSpec, StayingDown.Supervision);
        await StartHostAsync();

        await PostAsync("unit-cannot-run", "start");

        var failed = await WaitForAsync("unit-cannot-run", s => State(s) == "failed", "unit-cannot-run to fail");
        AssertCoded(failed, "a unit that cannot run");
        AssertLegalLifecycle("unit-cannot-run");
    }

    [Fact]
    public async Task A_running_unit_keeps_its_process_through_a_plugin_reload_and_a_host_kill_9()
    {
        WriteUnit("unit-kept", RunningSpec);
        var first = await StartHostAsync();
        await PostAsync("unit-kept", "start");
        var pid = Pid(await WaitForAsync("unit-kept", s => State(s) == "ready", "unit-kept to be ready"));

        using (var reload = await _host.Http.PostAsync(new Uri($"/api/plugins/{PluginName}/reload", UriKind.Relative), null))
        {
            var answer = await reload.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(reload.IsSuccessStatusCode, $"the reload failed: {answer}");
            Assert.Equal(0, answer.GetProperty("unitsRestarted").GetInt32());
        }

        var reloaded = _host.Unit("unit-kept")!.Value;
        Assert.Equal(("ready", pid), (State(reloaded), Pid(reloaded)));

        var session = SessionOf(pid);
        first.Crash();
        await first.WaitForExitAsync(Deadline);
        var second = await StartHostAsync();
        if (KeptAcrossHostRestart)
        {
            var attached = await WaitForAsync("unit-kept", s => State(s) == "ready", "the new host to attach unit-kept");
            Assert.Equal(pid, Pid(attached));
        }
        else
        {
            // Not adopted: the unit is as its manifest says at a host start (autostart: false here), and nothing of the old session runs.
            await WaitForAsync("unit-kept", s => State(s) == "idle", "the new host to leave unit-kept idle, not adopted");
            await Eventually.TrueAsync(() => LeftOf(session).Length == 0, Deadline, $"the old session of unit-kept to end: {string.Join(", ", LeftOf(session))}");
            await PostAsync("unit-kept", "start");
            session = SessionOf(Pid(await WaitForAsync("unit-kept", s => State(s) == "ready", "unit-kept to start afresh")));
        }

        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(Deadline));
        Assert.Empty(LeftOf(session));
    }

    private void WriteUnit(string name, string spec, string supervision = "") =>
        _host.Dir.Write($"manifests/{name}.yaml", $"""
            apiVersion: pluginhost/v1
            kind: {Kind}
            name: {name}
            autostart: false
            {supervision}
            {ManifestLines}
            spec:
            {Indent(spec)}

            """);

    private static string Indent(string yaml) => string.Join('\n', yaml.Split('\n').Select(line => "  " + line));

    private async Task<HostProcess> StartHostAsync()
    {
        var host = _host.Start();
        await Eventually.TrueAsync(() => _host.Http.GetAsync(new Uri("/api/health", UriKind.Relative)).Result.IsSuccessStatusCode, Deadline,
            "the host's API to answer; its output: " + host.Output);
        return host;
    }

    private async Task<JsonElement> PostAsync(string unit, string action)
    {
        using var response = await _host.Http.PostAsync(new Uri($"/api/units/{unit}/{action}", UriKind.Relative), null);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> WaitForAsync(string unit, Func<JsonElement, bool> condition, string what)
    {
        JsonElement? last = null;
        try
        {
            return (JsonElement)await Eventually.WaitAsync<object>(() => { last = _host.Unit(unit); return last is { } s && condition(s) ? s : null; }, Deadline, what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last status: {last}", ex);
        }
    }

    private static string? State(JsonElement status) => status.GetProperty("state").GetString();

    private static int Pid(JsonElement status) => status.GetProperty("pid").ValueKind == JsonValueKind.Number ? status.GetProperty("pid").GetInt32() : 0;

    private static void AssertCoded(JsonElement status, string what)
    {
        var error = status.GetProperty("lastError");
        Assert.True(error.ValueKind == JsonValueKind.Object, $"{what} left no error: {status}");
        var code = error.GetProperty("code").GetString() ?? "";
        Assert.Matches("^[A-Z][A-Z0-9_]+$", code);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), $"{what}: an error without a message: {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("remedy").GetString()), $"{what}: {code} without a remedy: {error}");
    }

    /// <summary>Every unit_state event of the unit is a transition the lifecycle table allows, each starting where the last one ended.</summary>
    private void AssertLegalLifecycle(string unit)
    {
        var moves = _host.Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/events/recent?unit={unit}&limit=1000", UriKind.Relative)).Result.EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "unit_state")
            .Select(e => (From: Parse(e.GetProperty("payload").GetProperty("from")), To: Parse(e.GetProperty("payload").GetProperty("to"))))
            .ToArray();
        Assert.NotEmpty(moves);
        Assert.Equal(UnitState.Idle, moves[0].From);
        for (var i = 0; i < moves.Length; i++)
        {
            Assert.True(Lifecycle.CanMove(moves[i].From, moves[i].To), $"{unit}: {moves[i].From} -> {moves[i].To} is not in the lifecycle table (docs/supervision.md)");
            if (i > 0)
            {
                Assert.True(moves[i - 1].To == moves[i].From, $"{unit}: {moves[i - 1].From} -> {moves[i - 1].To} is followed by {moves[i].From} -> {moves[i].To}");
            }
        }
    }

    private static UnitState Parse(JsonElement state) => Enum.Parse<UnitState>(state.GetString()!, ignoreCase: true);

    private static int SessionOf(int pid) => ProcStat.Read(pid)?.Session ?? throw new Xunit.Sdk.XunitException($"pid {pid} is not running");

    /// <summary>What still runs of a unit's session (or group of that id).</summary>
    private static string[] LeftOf(int session) => [.. ProcStat.SessionMembers(session).Select(p => $"pid {p.Pid} ({ReadCommand(p.Pid)})")];

    private static string ReadCommand(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static bool IsAlive(int pid) => ProcStat.Read(pid) is { IsZombie: false };

    private static void KillProcess(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill();
    }
}
