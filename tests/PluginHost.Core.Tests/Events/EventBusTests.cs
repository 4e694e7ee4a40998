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

    [Fact]
    public void A_payload_over_the_limit_is_cut_to_what_it_was_and_its_beginning()
    {
        var bus = new EventBus();
        var publisher = new EventPublisher(bus, TimeProvider.System, "u", null);
        var problems = new System.Text.Json.Nodes.JsonArray([.. Enumerable.Range(0, 90_000).Select(i => (System.Text.Json.Nodes.JsonNode)$"u.yaml:{i}:1: found unknown key")]);

        publisher.Publish("manifest_rejected", new System.Text.Json.Nodes.JsonObject { ["problems"] = problems });
        publisher.Publish("small", new System.Text.Json.Nodes.JsonObject { ["n"] = 1 });

        var events = bus.Recent();
        var cut = events[0].Payload;
        Assert.True(cut.GetProperty("truncated").GetBoolean());
        Assert.True(cut.GetProperty("bytes").GetInt32() > 2_000_000);
        Assert.Equal(EventPublisher.MaxPayloadBytes, cut.GetProperty("limit").GetInt32());
        Assert.StartsWith("{\"problems\":[\"u.yaml:0:1", cut.GetProperty("preview").GetString(), StringComparison.Ordinal);
        Assert.True(cut.GetRawText().Length < 4096);
        Assert.Equal(1, events[1].Payload.GetProperty("n").GetInt32());
    }
}
