using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Launchd;

/// <summary>
/// launchd-service end to end with the real `pluginhost`: the seed's plists imported (every key not
/// honoured listed, nothing written on a bad file), the units run, exported back, and a job's
/// StandardOutPath still written after the host is killed and a new one re-attaches.
/// </summary>
public sealed class LaunchdServiceTests : IAsyncLifetime
{
    private static readonly string Example = Path.Combine(RepositoryLayout.Root, "samples", "launchd-classroom");
    private readonly HostUnderTest _host = new("launchd");

    public Task InitializeAsync()
    {
        _host.WriteHostYaml();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Importing_the_seeds_plists_writes_manifests_that_run_and_lists_what_is_not_honoured()
    {
        // The example's plists, with the folder they name (WorkingDirectory "..", the apps) beside the manifests.
        RepositoryLayout.CopyDirectory(Path.Combine(Example, "apps"), _host.Dir.Combine("apps"));
        var plists = Directory.GetFiles(Path.Combine(Example, "launchd"), "*.plist").Where(p => !p.Contains("cloudflared", StringComparison.Ordinal)).ToArray();
        var ports = new[] { HostProcess.FreePort(), HostProcess.FreePort(), HostProcess.FreePort(), HostProcess.FreePort() };
        var copies = plists.Select((p, i) => _host.Dir.Write("launchd/" + Path.GetFileName(p),
            File.ReadAllText(p).Replace($"<string>{OriginalPort(p)}</string>", $"<string>{ports[i]}</string>", StringComparison.Ordinal))).ToArray();

        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, ["import", "plist", .. copies, "-m", "manifests"]);
        Assert.True(code == 0, output);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(output, "ProcessType: not honoured, left out").Count);
        Assert.Equal(4, Directory.GetFiles(_host.Dir.Combine("manifests"), "com.llmclassroom.*.yaml").Length);

        // Imported again: refused, nothing replaced.
        (code, output) = await HostProcess.RunAsync(_host.Dir.Path, ["import", "plist", copies[0], "-m", "manifests"]);
        Assert.Equal(1, code);
        Assert.Contains("exists already; pass --force", output, StringComparison.Ordinal);

        var host = _host.Start();
        foreach (var (port, i) in ports.Select((p, i) => (p, i)))
        {
            var name = Path.GetFileNameWithoutExtension(copies[i]);
            await Eventually.TrueAsync(() => _host.UnitIs(name, "ready"), HostUnderTest.Deadline, $"{name} ready");
            using var http = new HttpClient();
            var answer = await Eventually.WaitAsync(() => { try { return http.GetStringAsync($"http://127.0.0.1:{port}/health").Result; } catch (AggregateException) { return null; } }, HostUnderTest.Deadline, $"{name} to answer");
            Assert.Contains("\"ok\": true", answer, StringComparison.Ordinal);
        }

        // The job's own StandardOutPath, as the plist named it (relative to the manifests folder).
        var hubLog = _host.Dir.Combine("logs", "hub.log");
        await Eventually.TrueAsync(() => File.Exists(hubLog) && File.ReadAllText(hubLog).Contains("Student Hub listening", StringComparison.Ordinal), HostUnderTest.Deadline, "logs/hub.log");
        Assert.NotNull(host);
    }

    [Fact]
    public async Task A_malformed_plist_is_refused_with_where_and_nothing_is_written()
    {
        var good = _host.Dir.Write("good.plist", File.ReadAllText(Path.Combine(Example, "launchd", "com.llmclassroom.hub.plist")));
        var bad = _host.Dir.Write("bad.plist", "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n<dict>\n<key>Label</key>\n</dict>\n</plist>\n");
        var fifo = _host.Dir.Combine("fifo.plist");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!)
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "import", "plist", good, bad, fifo, "-m", "manifests");
        Assert.Equal(1, code);
        Assert.Contains("bad.plist: line 4: the key \"Label\" has no value", output, StringComparison.Ordinal);
        Assert.Contains("fifo.plist: is a FIFO", output, StringComparison.Ordinal);
        Assert.Contains("Nothing was written.", output, StringComparison.Ordinal);
        Assert.Equal(["host.yaml"], Directory.GetFiles(_host.Dir.Combine("manifests")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Export_writes_a_plist_and_a_systemd_unit_for_a_unit_and_says_what_does_not_carry_over()
    {
        _host.Dir.Write("manifests/web.yaml", """
            apiVersion: pluginhost/v1
            kind: process
            name: web
            restart: always
            health: { readiness: { tcp: http } }
            ports: { http: 18123 }
            env: { TOKEN: s3cret }
            spec: { command: /usr/bin/python3, args: [-m, http.server, "{port:http}"] }
            """);
        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "export", "systemd", "web", "-m", "manifests", "--out", "exported");
        Assert.True(code == 0, output);
        Assert.Contains("web.service: health: readiness and liveness probes are not exported", output, StringComparison.Ordinal);
        var unit = File.ReadAllText(_host.Dir.Combine("exported", "web.service"));
        Assert.Contains("ExecStart=/usr/bin/python3 -m http.server 18123\n", unit, StringComparison.Ordinal);
        Assert.Contains("Environment=TOKEN=s3cret\n", unit, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_host.Dir.Combine("exported", "web.service")));

        (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "export", "plist", "web", "-m", "manifests");
        Assert.True(code == 0, output);
        Assert.Contains("<key>KeepAlive</key>\n\t<true/>", output, StringComparison.Ordinal);

        (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "export", "yaml", "web", "-m", "manifests");
        Assert.Equal(2, code);
        Assert.Contains("Formats: plist", output, StringComparison.Ordinal);
        (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "export", "plist", "nope", "-m", "manifests");
        Assert.Equal(1, code);
        Assert.Contains("no unit named nope", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_jobs_output_file_is_still_written_after_the_host_is_killed_and_a_new_one_reattaches()
    {
        var output = _host.Dir.Combine("out", "ticker.log");
        _host.Dir.Write("manifests/ticker.yaml", $"""
            apiVersion: pluginhost/v1
            kind: launchd-service
            name: ticker
            spec:
              ProgramArguments: [/bin/sh, -c, "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done"]
              RunAtLoad: true
              KeepAlive: true
              StandardOutPath: {output}
            """);
        var first = _host.Start();
        await Eventually.TrueAsync(() => File.Exists(output) && File.ReadAllLines(output).Length >= 5, HostUnderTest.Deadline, "ticks in the file");
        var pid = _host.Unit("ticker")!.Value.GetProperty("pid").GetInt32();
        first.Crash();
        await first.WaitForExitAsync(HostUnderTest.Deadline);
        var during = File.ReadAllLines(output).Length;

        var second = _host.Start();
        await Eventually.TrueAsync(() => _host.UnitIs("ticker", "ready"), HostUnderTest.Deadline, "ticker re-attached");
        Assert.Equal(pid, _host.Unit("ticker")!.Value.GetProperty("pid").GetInt32());
        await Eventually.TrueAsync(() => File.ReadAllLines(output).Length >= during + 20, HostUnderTest.Deadline, "ticks written after the re-attach");
        var lines = File.ReadAllLines(output);
        Assert.Equal(Enumerable.Range(1, lines.Length).Select(i => $"tick {i}"), lines); // every line once, in order, none lost while no host ran

        // The unit is no child of the second host (the first one started it): only a clean stop of the host stops it.
        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(HostUnderTest.Deadline));
        await Eventually.TrueAsync(() => !Liveness.IsAlive(pid), HostUnderTest.Deadline, "the re-attached unit stopped with the host");
    }

    private static string OriginalPort(string plist) => System.Text.RegularExpressions.Regex.Match(File.ReadAllText(plist), @"<string>--port</string>\s*<string>(\d+)</string>").Groups[1].Value;
}
