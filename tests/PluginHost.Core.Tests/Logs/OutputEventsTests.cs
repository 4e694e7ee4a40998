using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Logs;
using Xunit;

namespace PluginHost.Core.Tests.Logs;

public sealed class OutputEventsTests : IDisposable
{
    private readonly TempDirectory _dir = new("output-events");
    private readonly ManualTimeProvider _time = new();
    private readonly EventBus _bus = new(recentCapacity: 10_000);

    public void Dispose() => _dir.Dispose();

    private IReadOnlyList<System.Text.Json.JsonElement> Published() => [.. _bus.Recent().Where(e => e.Kind == "app-log").Select(e => e.Payload)];

    private OutputLine Line(int n) => new(n % 2 == 0 ? OutputStream.Stdout : OutputStream.Stderr, $"line {n}", _time.GetUtcNow());

    [Fact]
    public void Lines_become_events_up_to_the_rate_and_the_next_event_counts_the_lines_left_out()
    {
        using var log = new UnitLog(_dir.Combine("u.log"), LogSettings.Default);
        using var forwarding = OutputEvents.Attach("app-log", 100, log, new EventPublisher(_bus, _time, "u", "p"), _time);

        for (var i = 0; i < 150; i++)
        {
            log.Append(Line(i));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        log.Append(Line(150));

        var events = Published();
        Assert.Equal(101, events.Count);
        Assert.Equal(("stdout", "line 0"), (events[0].GetProperty("stream").GetString(), events[0].GetProperty("line").GetString()));
        Assert.Equal("stderr", events[1].GetProperty("stream").GetString());
        Assert.False(events[99].TryGetProperty("skipped", out _));
        Assert.Equal(("line 150", 50), (events[100].GetProperty("line").GetString(), events[100].GetProperty("skipped").GetInt32()));
        Assert.Equal(151, log.Tail(1000).Count); // the log itself keeps every line
    }

    [Fact]
    public void Nothing_is_published_without_a_kind_or_after_the_process_is_gone()
    {
        using var log = new UnitLog(_dir.Combine("u.log"), LogSettings.Default);
        Assert.Null(OutputEvents.Attach(null, 100, log, new EventPublisher(_bus, _time, "u", "p"), _time));
        var forwarding = OutputEvents.Attach("app-log", new LaunchPlan("x").OutputEventsPerSecond, log, new EventPublisher(_bus, _time, "u", "p"), _time)!;
        log.Append(Line(0));
        forwarding.Dispose();
        log.Append(Line(1));

        Assert.Single(Published());
    }
}
