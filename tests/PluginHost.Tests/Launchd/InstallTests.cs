using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Launchd;

/// <summary>
/// `pluginhost install` / `uninstall` and the host's side of systemd's notify protocol: the unit it
/// writes passes systemd's own verifier, the LaunchAgent reads as plistlib reads it, and a real host
/// under a notify socket the test listens on says READY=1, pings the watchdog, and says STOPPING=1.
/// </summary>
public sealed class InstallTests : IAsyncLifetime
{
    private readonly HostUnderTest _host = new("install");

    public Task InitializeAsync()
    {
        _host.WriteHostYaml();
        _host.Dir.Write("manifests/ticker.yaml", """
            apiVersion: pluginhost/v1
            kind: process
            name: ticker
            stop: { grace: 75s }
            spec: { command: /bin/sh, args: [-c, 'echo "NOTIFY_SOCKET=[$NOTIFY_SOCKET]"; exec sleep 1000'] }
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task The_systemd_unit_passes_systemd_analyze_verify_and_keeps_the_host_alive_without_killing_its_units()
    {
        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "install", "--systemd", "--dry-run", "--watchdog", "30s", "-m", "manifests");
        Assert.True(code == 0, output);
        var unit = Between(output, "would write /etc/systemd/system/pluginhost.service:\n", "\nwould run:");
        var file = _host.Dir.Write("check/pluginhost.service", unit);
        Prerequisite.Program("/usr/bin/systemd-analyze", "systemd");
        var (verified, said) = Run("/usr/bin/systemd-analyze", "verify", "--man=no", file);
        Assert.True(verified == 0 && said.Trim().Length == 0, $"systemd-analyze verify exited {verified}:\n{said}\n{unit}");

        Assert.Contains("Type=notify\n", unit, StringComparison.Ordinal);
        Assert.Contains("Restart=always\n", unit, StringComparison.Ordinal);
        Assert.Contains("StartLimitIntervalSec=0\n", unit, StringComparison.Ordinal);
        Assert.Contains("KillMode=process\n", unit, StringComparison.Ordinal); // a crashed host's units are re-attached, not killed
        Assert.Contains("WatchdogSec=30\n", unit, StringComparison.Ordinal);
        Assert.Contains("TimeoutStopSec=105\n", unit, StringComparison.Ordinal); // the longest grace (75 s) + 30 s
        Assert.Contains($"run --manifests {_host.Dir.Combine("manifests")} --data ", unit, StringComparison.Ordinal);
        Assert.Contains("would run: systemctl daemon-reload\nwould run: systemctl enable --now pluginhost.service", output, StringComparison.Ordinal);
        Assert.False(File.Exists("/etc/systemd/system/pluginhost.service") && File.ReadAllText("/etc/systemd/system/pluginhost.service").Contains(_host.Dir.Path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Install_writes_the_unit_and_uninstall_removes_it()
    {
        var folder = _host.Dir.Combine("units");
        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "install", "--systemd", "--user", "--unit-dir", folder, "--name", "classroom", "-m", "manifests");
        Assert.True(code == 0, output);
        var unit = File.ReadAllText(Path.Combine(folder, "classroom.service"));
        Assert.Contains("WantedBy=default.target\n", unit, StringComparison.Ordinal);
        Assert.Contains("to run by hand once the file is where the supervisor looks: systemctl --user enable --now classroom.service", output, StringComparison.Ordinal);

        (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "uninstall", "--systemd", "--user", "--unit-dir", folder, "--name", "classroom");
        Assert.True(code == 0, output);
        Assert.False(File.Exists(Path.Combine(folder, "classroom.service")));
        (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "uninstall", "--systemd", "--user", "--unit-dir", folder, "--name", "classroom");
        Assert.Equal(1, code);
        Assert.Contains("nothing is installed there", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_launch_agent_is_a_plist_plistlib_reads_with_KeepAlive_and_RunAtLoad()
    {
        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "install", "--launchd", "--user", "--dry-run", "-m", "manifests");
        Assert.True(code == 0, output);
        var plist = Between(output, "com.pluginhost.host.plist:\n", "\nwould run:");
        var file = _host.Dir.Write("check/agent.plist", plist);
        Prerequisite.Program("/usr/bin/python3", "python3");
        var (read, json) = Run("/usr/bin/python3", "-c", "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))", file);
        Assert.True(read == 0, json);
        var job = JsonDocument.Parse(json).RootElement;
        Assert.Equal("com.pluginhost.host", job.GetProperty("Label").GetString());
        Assert.True(job.GetProperty("RunAtLoad").GetBoolean());
        Assert.True(job.GetProperty("KeepAlive").GetBoolean());
        Assert.Equal(105, job.GetProperty("ExitTimeOut").GetInt32());
        Assert.Contains("run", job.GetProperty("ProgramArguments").EnumerateArray().Select(a => a.GetString()));
        Assert.Matches(@"would run: launchctl bootstrap gui/\d+ ", output);
    }

    [Fact]
    public async Task A_configuration_the_host_would_refuse_is_never_installed()
    {
        _host.Dir.Write("manifests/broken.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: broken\nspec: { args: [x] }\n");
        var folder = _host.Dir.Combine("units");
        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, "install", "--systemd", "--unit-dir", folder, "-m", "manifests");
        Assert.Equal(1, code);
        Assert.Contains("nothing was installed", output, StringComparison.Ordinal);
        Assert.Contains("broken.yaml:4", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task Under_systemd_the_host_says_ready_once_its_units_are_loaded_pings_the_watchdog_and_says_stopping()
    {
        var path = _host.Dir.Combine("notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var messages = new List<string>();
        using var listening = new CancellationTokenSource();
        var receiver = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (!listening.IsCancellationRequested)
            {
                var length = await socket.ReceiveAsync(buffer, SocketFlags.None, listening.Token);
                lock (messages)
                {
                    messages.Add(Encoding.UTF8.GetString(buffer, 0, length));
                }
            }
        });
        string[] Said()
        {
            lock (messages)
            {
                return [.. messages];
            }
        }

        var host = _host.Adopt(HostProcess.Start(_host.Dir.Path, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path, ["WATCHDOG_USEC"] = "400000" }, _host.RunArguments()));
        await Eventually.TrueAsync(() => Said().Any(m => m.StartsWith("READY=1", StringComparison.Ordinal)), HostUnderTest.Deadline, "READY=1");
        var ready = Said().First(m => m.StartsWith("READY=1", StringComparison.Ordinal));
        Assert.Contains($"MAINPID={host.Pid}", ready, StringComparison.Ordinal);
        Assert.Contains("STATUS=1 unit(s) loaded", ready, StringComparison.Ordinal);
        Assert.NotNull(_host.Unit("ticker")); // the API answers and knows the units when READY=1 has been said

        await Eventually.TrueAsync(() => Said().Count(m => m == "WATCHDOG=1") >= 3, HostUnderTest.Deadline, "three watchdog pings");
        // Their cadence (half the interval) is asserted on a manual clock in SystemdNotifyTests, not against wall time here.

        await Eventually.TrueAsync(() => _host.UnitIs("ticker", "ready"), HostUnderTest.Deadline, "ticker ready");
        await Eventually.TrueAsync(() => host.Output.Contains("NOTIFY_SOCKET=[]", StringComparison.Ordinal) || Logs("ticker").Contains("NOTIFY_SOCKET=[]", StringComparison.Ordinal),
            HostUnderTest.Deadline, "the unit's line, without the host's notify socket");

        host.Terminate();
        Assert.Equal(0, await host.WaitForExitAsync(HostUnderTest.Deadline));
        Assert.Contains(Said(), m => m.StartsWith("STOPPING=1", StringComparison.Ordinal));
        var stoppedAt = Array.FindIndex(Said(), m => m.StartsWith("STOPPING=1", StringComparison.Ordinal));
        Assert.DoesNotContain("WATCHDOG=1", Said().Skip(stoppedAt + 1));
        await listening.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiver);
    }

    private string Logs(string unit)
    {
        var path = _host.Dir.Combine("data", "logs", unit + ".log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    private static string Between(string text, string start, string end)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, text);
        from += start.Length;
        var to = text.IndexOf(end, from, StringComparison.Ordinal);
        return text[from..(to < 0 ? text.Length : to)];
    }

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
