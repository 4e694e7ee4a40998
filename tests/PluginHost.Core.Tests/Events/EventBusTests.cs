using System.Text.Json;
using PluginHost.Contracts.Events;
using PluginHost.Core.Events;
using Xunit;

namespace PluginHost.Core.Tests.Events;

public sealed class EventBusTests
{
    private static HostEvent Event(int n) => new("tick", "unit", null, DateTimeOffset.UnixEpoch.AddSeconds(n), JsonSerializer.SerializeToElement(n));

    [Fact]
    public void A_subscriber_that_does_not_read_loses_its_oldest_events_counted_and_never_blocks_publishing()
    {
        var bus = new EventBus(recentCapacity: 5);
        using var slow = bus.Subscribe(capacity: 3);

        for (var i = 1; i <= 10; i++)
        {
            bus.Publish(Event(i));
        }

        Assert.Equal(7, slow.Dropped);
        var kept = new List<int>();
        while (slow.Reader.TryRead(out var e))
        {
            kept.Add(e.Event.Payload.GetInt32());
        }

        Assert.Equal([8, 9, 10], kept);
        Assert.Equal([6, 7, 8, 9, 10], bus.Recent().Select(e => e.Payload.GetInt32()));
    }

    [Fact]
    public void A_disposed_subscription_receives_nothing_more()
    {
        var bus = new EventBus();
        var subscription = bus.Subscribe();
        subscription.Dispose();

        bus.Publish(Event(1));

        Assert.False(subscription.Reader.TryRead(out _));
        Assert.True(subscription.Reader.Completion.IsCompleted);
    }
}
