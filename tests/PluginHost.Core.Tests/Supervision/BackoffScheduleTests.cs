using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>The restart schedule of a real crashing process, on a clock the test moves: exact, and instant to test.</summary>
public sealed class BackoffScheduleTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new();
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync(time: _clock);

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task A_crashing_unit_waits_exactly_its_backoff_before_each_new_start()
    {
        await _engine.RunAsync("""
            apiVersion: pluginhost/v1
            kind: process
            name: crash
            restart: { policy: on-failure, backoff: { initial: 10s, max: 1m, multiplier: 2, jitter: 0.2 }, minInterval: 0s, limit: { restarts: 10, window: 1h } }
            spec: { command: /bin/sh, args: [-c, 'exit 3'] }
            """);
        var unit = _engine.Unit("crash");

        await _engine.WaitForAsync("crash", s => s is { State: "backoff", Restarts: 1 }, "the first backoff");
        _clock.Advance(TimeSpan.FromMilliseconds(9_999));
        Assert.Equal("backoff", unit.Status().State);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        await _engine.WaitForAsync("crash", s => s is { State: "backoff", Restarts: 2 }, "the second backoff");
        _clock.Advance(TimeSpan.FromMilliseconds(19_999));
        Assert.Equal(2, unit.Status().Restarts);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        await _engine.WaitForAsync("crash", s => s is { State: "backoff", Restarts: 3 }, "the third backoff");
        var reasons = _engine.EventsOf("crash").Where(e => e.Kind == "unit_state" && e.Payload.GetProperty("to").GetString() == "backoff")
            .Select(e => e.Payload.GetProperty("reason").GetString()!).ToArray();
        Assert.Equal(["exit code 3; starting again in 10s", "exit code 3; starting again in 20s", "exit code 3; starting again in 40s"], reasons);
        var starts = _engine.EventsOf("crash").Where(e => e.Kind == "unit_state" && e.Payload.GetProperty("to").GetString() == "starting").Select(e => e.Timestamp).ToArray();
        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)], starts.Zip(starts.Skip(1), (a, b) => b - a));
    }
}
