using System.Net;
using System.Net.Sockets;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

public sealed class ProbeAndPortTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;
    private readonly List<TcpListener> _squatters = [];

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        _squatters.ForEach(l => l.Stop());
    }


    /// <summary>A free block of ports [p, p+count) at the time of the call.</summary>
    private static int FreeBlock(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var start = Random.Shared.Next(20000, 60000);
            if (Enumerable.Range(start, count).All(IsFree))
            {
                return start;
            }
        }

        throw new InvalidOperationException("no free port block");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            l.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Squat(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        _squatters.Add(listener);
    }

    /// <summary>From the unit's last move to starting until its last move to ready.</summary>
    private TimeSpan Took(string unit)
    {
        var states = _engine.EventsOf(unit).Where(e => e.Kind == "unit_state").ToArray();
        return states.Last(e => e.Payload.GetProperty("to").GetString() == "ready").Timestamp - states.Last(e => e.Payload.GetProperty("to").GetString() == "starting").Timestamp;
    }

    private const string HttpServer = "exec /usr/bin/env python3 -m http.server --bind 127.0.0.1 {port:http}";

    [Fact]
    public async Task Readiness_waits_for_the_http_probe_and_the_chosen_port_reaches_args_and_status()
    {
        var port = FreeBlock(3);
        await _engine.RunAsync(UnitYaml.Bash("web", "sleep 1; " + HttpServer,
            $"ports: {{ http: {port} }}\nhealth: {{ startTimeout: 20s, readiness: {{ http: {{ path: /, port: http }}, interval: 100ms }} }}"));

        var ready = await _engine.WaitForStateAsync("web", "ready");

        // Ready only once the probe passed: the server starts listening a second into the process's life.
        Assert.True(Took("web") >= TimeSpan.FromSeconds(0.9), $"ready {Took("web").TotalSeconds:F2} s after starting: before the server could answer");
        Assert.Equal(port, ready.Ports["http"]);
        using var http = new HttpClient();
        Assert.True((await http.GetAsync(new Uri($"http://127.0.0.1:{port}/"))).IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_taken_preferred_port_moves_the_unit_to_the_next_free_one()
    {
        var port = FreeBlock(3);
        Squat(port);

        await _engine.RunAsync(UnitYaml.Bash("web", HttpServer, $"ports: {{ http: {{ preferred: {port}, scan: 2 }} }}\nhealth: {{ readiness: {{ tcp: http, interval: 100ms }} }}"));
        var ready = await _engine.WaitForStateAsync("web", "ready");

        Assert.Equal(port + 1, ready.Ports["http"]);
    }

    [Fact]
    public async Task When_every_port_of_the_scan_is_taken_the_error_is_PORT_IN_USE()
    {
        var port = FreeBlock(2);
        Squat(port);
        Squat(port + 1);

        await _engine.RunAsync(UnitYaml.Bash("web", HttpServer, $"ports: {{ http: {{ preferred: {port}, scan: 1 }} }}\nrestart: never"));
        var failed = await _engine.WaitForStateAsync("web", "failed");

        Assert.Equal("PORT_IN_USE", failed.LastError!.Code);
        Assert.Contains($"{port}–{port + 1}", failed.LastError.Message, StringComparison.Ordinal);
        Assert.Null(failed.Pid);
    }

    [Fact]
    public async Task A_port_held_by_a_leftover_of_a_crash_is_freed_before_the_restart_so_the_unit_keeps_its_port()
    {
        var port = FreeBlock(3);

        // The server runs as a grandchild; the main process is what crashes.
        await _engine.RunAsync(UnitYaml.Bash("web", "/usr/bin/env python3 -m http.server --bind 127.0.0.1 {port:http} & wait",
            $"ports: {{ http: {{ preferred: {port}, scan: 2 }} }}\nrestart: {{ policy: always, backoff: {{ initial: 10ms }} }}\nhealth: {{ readiness: {{ tcp: http, interval: 100ms }} }}"));
        var first = await _engine.WaitForStateAsync("web", "ready");

        LibC.kill(first.Pid!.Value, 9);
        var second = await _engine.WaitForAsync("web", s => s.State == "ready" && s.Pid != first.Pid, "the restarted unit");

        Assert.Equal(port, second.Ports["http"]);
        Assert.Equal(1, second.Restarts);
    }

    [Fact]
    public async Task A_log_line_can_signal_readiness()
    {
        await _engine.RunAsync(UnitYaml.Bash("logready", "sleep 0.5; echo \"server listening on :8080\"; sleep 300",
            "health: { readiness: { log: { pattern: \"listening on :\\\\d+\" } } }"));

        await _engine.WaitForStateAsync("logready", "ready");

        var line = Assert.Single(_engine.Unit("logready").Log.Tail(5), l => l.Text.Contains("listening", StringComparison.Ordinal));
        var readyAt = _engine.EventsOf("logready").Last(e => e.Kind == "unit_state" && e.Payload.GetProperty("to").GetString() == "ready").Timestamp;
        Assert.True(readyAt >= line.Timestamp, $"ready at {readyAt:O}, before the line at {line.Timestamp:O}");
        Assert.True(Took("logready") >= TimeSpan.FromSeconds(0.45), $"ready {Took("logready").TotalSeconds:F2} s after starting, before the line was written");
    }

    [Fact]
    public async Task A_unit_that_never_becomes_ready_fails_its_start_with_START_TIMEOUT_and_leaves_no_process()
    {
        await _engine.RunAsync(UnitYaml.Bash("slow", "sleep 300", "restart: never\nhealth: { startTimeout: 500ms, readiness: { log: { pattern: never-printed } } }\nstop: { grace: 200ms }"));

        var failed = await _engine.WaitForStateAsync("slow", "failed");

        Assert.Equal("START_TIMEOUT", failed.LastError!.Code);
        var started = _engine.EventsOf("slow").First(e => e.Kind == "unit_state" && e.Payload.GetProperty("to").GetString() == "starting");
        var exited = _engine.EventsOf("slow").Single(e => e.Kind == "unit_exited");
        Assert.False(EngineFixture.IsAlive(exited.Payload.GetProperty("pid").GetInt32()));
        Assert.True(exited.Timestamp - started.Timestamp >= TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task A_failing_liveness_probe_restarts_a_ready_unit_with_HEALTHCHECK_FAILED()
    {
        var marker = Path.Combine(_engine.Data, "healthy");
        File.WriteAllText(marker, "");
        await _engine.RunAsync(UnitYaml.Bash("live", "sleep 300",
            $"restart: {{ policy: always, backoff: {{ initial: 10ms }} }}\nhealth: {{ liveness: {{ exec: {{ command: /bin/test, args: [-e, '{marker}'] }}, interval: 100ms, failureThreshold: 2 }} }}\nstop: {{ grace: 200ms }}"));
        var first = await _engine.WaitForStateAsync("live", "ready");

        File.Delete(marker);
        var restarted = await _engine.WaitForAsync("live", s => s.Restarts == 1, "the liveness restart");

        Assert.Equal("HEALTHCHECK_FAILED", restarted.LastError!.Code);
        Assert.Contains("2 consecutive failures", restarted.LastError.Message, StringComparison.Ordinal);
        Assert.False(EngineFixture.IsAlive(first.Pid!.Value));
    }

    [Fact]
    public async Task An_exec_probe_leaves_nothing_behind_however_it_ends()
    {
        var marker = $"1000{Random.Shared.Next(10, 99)}";
        var runs = Path.Combine(_engine.Data, "probe-runs");
        await _engine.RunAsync(UnitYaml.Bash("probed", "exec sleep 300",
            $"health: {{ liveness: {{ exec: {{ command: bash, args: [-c, 'echo run >> {runs}; sleep {marker} & exit 0'] }}, interval: 50ms }} }}"));
        await _engine.WaitForStateAsync("probed", "ready");

        await Eventually.TrueAsync(() => File.Exists(runs) && File.ReadAllLines(runs).Length >= 10, EngineFixture.Deadline, "ten probe runs");
        _engine.Unit("probed").Stop();
        await _engine.WaitForStateAsync("probed", "stopped");

        // Each run's background sleep went with its run's session (the unit's stop does not reach them).
        Assert.Empty(EngineFixture.ProcessesWithArgument(marker));
    }

    [Fact]
    public async Task An_exec_probe_that_overstays_its_timeout_is_killed_with_its_children()
    {
        var marker = $"2000{Random.Shared.Next(10, 99)}";
        await _engine.RunAsync(UnitYaml.Bash("slowprobe", "exec sleep 300",
            $"health: {{ readiness: {{ exec: {{ command: /bin/bash, args: [-c, 'sleep {marker} & sleep {marker}'] }}, timeout: 100ms, interval: 50ms }}, startTimeout: 1s }}\nrestart: never"));

        var failed = await _engine.WaitForStateAsync("slowprobe", "failed");

        Assert.Equal("START_TIMEOUT", failed.LastError?.Code);
        await Eventually.TrueAsync(() => EngineFixture.ProcessesWithArgument(marker).Length == 0, EngineFixture.Deadline, "the probes' processes to be gone");
    }
}
