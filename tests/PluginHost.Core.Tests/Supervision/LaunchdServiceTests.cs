using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>
/// launchd-service units on the real engine with real processes, on a clock the test moves:
/// KeepAlive in each form decides every restart, ThrottleInterval spaces the spawns exactly, and a
/// resting unit starts when its condition comes true.
/// </summary>
public sealed class LaunchdServiceTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new();
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync(time: _clock);

    // Stopping a process waits on the engine's clock (the grace, the group's drain): keep this test's clock moving until every unit is down.
    public async Task DisposeAsync() => await WhileTheClockRunsAsync(() => _engine.DisposeAsync().AsTask());

    [Fact]
    public async Task KeepAlive_true_spawns_again_exactly_one_ThrottleInterval_after_the_last_spawn_and_never_gives_up()
    {
        await _engine.RunAsync(LaunchdManifest.Of("tick", """
            ProgramArguments: [/bin/sh, -c, "exit 0"]
            RunAtLoad: true
            KeepAlive: true
            ThrottleInterval: 30
            """));
        for (var restarts = 1; restarts <= 7; restarts++)
        {
            await _engine.WaitForAsync("tick", s => s is { State: "backoff" } && s.Restarts == restarts, $"restart {restarts} planned");
            _clock.Advance(TimeSpan.FromMilliseconds(29_999));
            Assert.Equal(restarts, _engine.Unit("tick").Status().Restarts);
            _clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        await _engine.WaitForAsync("tick", s => s is { State: "backoff", Restarts: 8 }, "the eighth restart: no intensity limit, as launchd");
        var starts = Starts("tick");
        Assert.True(starts.Length >= 8);
        Assert.All(starts.Zip(starts.Skip(1), (a, b) => b - a), gap => Assert.Equal(TimeSpan.FromSeconds(30), gap));
        Assert.Contains(Reasons("tick", "backoff"), r => r.Contains("KeepAlive is true; starting again in 30s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SuccessfulExit_false_restarts_a_failed_exit_and_lets_a_successful_one_rest()
    {
        await _engine.RunAsync(LaunchdManifest.Of("once", """
            ProgramArguments: [/bin/sh, -c, "n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs; [ $n -ge 3 ] && exit 0; exit 4"]
            RunAtLoad: true
            KeepAlive: { SuccessfulExit: false }
            ThrottleInterval: 0
            """));
        var status = await _engine.WaitForAsync("once", s => s.State == "stopped", "the successful third run to rest");
        Assert.Equal(2, status.Restarts);
        Assert.Contains(Reasons("once", "backoff"), r => r.Contains("exited with status 4 (SuccessfulExit false)", StringComparison.Ordinal));
        Assert.Contains("no condition holds after it exited with status 0", Reasons("once", "stopped").Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crashed_true_restarts_after_a_crash_signal_only()
    {
        await _engine.RunAsync(LaunchdManifest.Of("fragile", """
            ProgramArguments: [/bin/sh, -c, "n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs; [ $n -eq 1 ] && kill -SEGV $$; exit 2"]
            RunAtLoad: true
            KeepAlive: { Crashed: true }
            ThrottleInterval: 0
            """));
        var status = await _engine.WaitForAsync("fragile", s => s.State == "failed", "the plain failure to rest");
        Assert.Equal(1, status.Restarts);
        Assert.Contains(Reasons("fragile", "backoff"), r => r.Contains("it crashed (on signal 11; Crashed true)", StringComparison.Ordinal));
        Assert.NotNull(status.LastError); // a failure not kept alive keeps its error
        Assert.Contains("2", status.LastError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_PathState_job_rests_until_its_path_exists_and_then_keeps_the_throttle()
    {
        var go = _engine.Data + "-go";
        await _engine.RunAsync(LaunchdManifest.Of("gated", $$"""
            ProgramArguments: [/bin/sh, -c, "echo ran; exit 0"]
            KeepAlive: { PathState: { "{{go}}": true } }
            ThrottleInterval: 5
            """));
        var resting = _engine.Unit("gated").Status();
        Assert.Equal("idle", resting.State);
        Assert.Contains($"waiting for {go} to exist", resting.Reason, StringComparison.Ordinal);
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal("idle", _engine.Unit("gated").Status().State);

        File.WriteAllText(go, "");
        _clock.Advance(TimeSpan.FromSeconds(1)); // the next check, one second after the last
        await _engine.WaitForAsync("gated", s => s is { State: "backoff", Restarts: 1 }, "it to run, and be kept alive while the path exists");
        Assert.Contains($"KeepAlive: {go} exists (PathState)", Reasons("gated", "starting")[0], StringComparison.Ordinal);

        File.Delete(go);
        _clock.Advance(TimeSpan.FromSeconds(5));
        await _engine.WaitForAsync("gated", s => s.State == "stopped", "it to rest once the path is gone");

        File.WriteAllText(go, "");
        _clock.Advance(TimeSpan.FromSeconds(1)); // checked: wanted again, but its last spawn was 1 s ago
        _clock.Advance(TimeSpan.FromMilliseconds(3_999));
        Assert.Equal("stopped", _engine.Unit("gated").Status().State);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await _engine.WaitForAsync("gated", s => s.Restarts >= 1 && Starts("gated").Length == 3, "the third spawn, one ThrottleInterval after the second");
        var starts = Starts("gated");
        Assert.Equal(TimeSpan.FromSeconds(5), starts[2] - starts[1]);
    }

    [Fact]
    public async Task An_OtherJobEnabled_job_runs_while_that_unit_is_enabled()
    {
        var db = """
            apiVersion: pluginhost/v1
            kind: process
            name: db
            enabled: false
            spec: { command: /bin/sleep, args: ["1000"] }
            """;
        await _engine.RunAsync(db, LaunchdManifest.Of("app", """
            ProgramArguments: [/bin/sleep, "1000"]
            KeepAlive: { OtherJobEnabled: { db: true } }
            """));
        Assert.Equal("idle", _engine.Unit("app").Status().State);

        await _engine.RunAsync(db.Replace("enabled: false", "enabled: true", StringComparison.Ordinal));
        _clock.Advance(TimeSpan.FromSeconds(1));
        await _engine.WaitForAsync("app", s => s.State == "ready", "app to start once db is enabled");
        Assert.Contains("KeepAlive: unit db is enabled (OtherJobEnabled)", Reasons("app", "starting")[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operators_stop_ends_keepalive_until_the_unit_is_started_again()
    {
        await _engine.RunAsync(LaunchdManifest.Of("kept", """
            ProgramArguments: [/bin/sleep, "1000"]
            RunAtLoad: true
            KeepAlive: true
            ThrottleInterval: 0
            """));
        await _engine.WaitForStateAsync("kept", "ready");
        _engine.Unit("kept").Stop();
        await WhileTheClockRunsAsync(() => _engine.WaitForStateAsync("kept", "stopped"));
        _clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal("stopped", _engine.Unit("kept").Status().State); // launchctl unload: not brought back
    }

    private async Task WhileTheClockRunsAsync(Func<Task> work)
    {
        using var done = new CancellationTokenSource();
        var ticking = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                _clock.Advance(TimeSpan.FromMilliseconds(50));
                await Task.Delay(5, CancellationToken.None);
            }
        });
        try
        {
            await work();
        }
        finally
        {
            await done.CancelAsync();
            await ticking;
        }
    }

    private DateTimeOffset[] Starts(string unit) => [.. _engine.EventsOf(unit)
        .Where(e => e.Kind == "unit_state" && e.Payload.GetProperty("to").GetString() == "starting").Select(e => e.Timestamp)];

    private string[] Reasons(string unit, string state) => [.. _engine.EventsOf(unit)
        .Where(e => e.Kind == "unit_state" && e.Payload.GetProperty("to").GetString() == state).Select(e => e.Payload.GetProperty("reason").GetString()!)];
}
