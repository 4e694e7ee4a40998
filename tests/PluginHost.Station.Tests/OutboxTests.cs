using PluginHost.Contracts.Testing;
using PluginHost.Station.Protocol;
using PluginHost.Station.Worker.Link;
using Xunit;

namespace PluginHost.Station.Tests;

public sealed class OutboxTests
{
    private readonly ManualTimeProvider _clock = new();

    [Fact]
    public void Events_are_numbered_per_execution_from_one_without_gaps()
    {
        var outbox = new Outbox("b1", _clock, TimeSpan.FromSeconds(1));

        var numbers = new[] { outbox.Add("e1", MessageTypes.StepStart, []), outbox.Add("e1", MessageTypes.StepComplete, []), outbox.Add("e2", MessageTypes.StepStart, []) }
            .Select(m => (m.Execution, m.Sequence)).ToArray();

        Assert.Equal([("e1", 1L), ("e1", 2L), ("e2", 1L)], numbers);
    }

    [Fact]
    public void An_ack_covers_every_event_of_its_execution_up_to_its_number_and_no_other()
    {
        var outbox = new Outbox("b1", _clock, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++)
        {
            outbox.Add("e1", MessageTypes.Log, []);
        }

        outbox.Add("e2", MessageTypes.Log, []);

        outbox.Acknowledge("e1", 3);

        Assert.Equal([("e1", 4L), ("e1", 5L), ("e2", 1L)], outbox.Due(all: true).Select(m => (m.Execution!, m.Sequence!.Value)));
    }

    [Fact]
    public void What_is_not_acknowledged_is_due_again_after_the_resend_delay_in_order()
    {
        var outbox = new Outbox("b1", _clock, TimeSpan.FromSeconds(1));
        outbox.Add("e1", MessageTypes.StepStart, []);
        outbox.Add("e1", MessageTypes.StepComplete, []);

        Assert.Empty(outbox.Due(all: false));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([1L, 2L], outbox.Due(all: false).Select(m => m.Sequence!.Value));
        Assert.Empty(outbox.Due(all: false)); // just sent again: the delay starts over
        outbox.Acknowledge("e1", 2);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(outbox.Due(all: false));
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public async Task A_full_outbox_makes_the_execution_wait_for_an_ack_and_drops_nothing()
    {
        var outbox = new Outbox("b1", _clock, TimeSpan.FromSeconds(1), capacity: 3);
        for (var i = 0; i < 3; i++)
        {
            outbox.Add("e1", MessageTypes.Log, []);
        }

        var fourth = Task.Run(() => outbox.Add("e1", MessageTypes.Log, []));
        await Task.Delay(200); // long enough for a wrongly unbounded Add to have returned
        Assert.False(fourth.IsCompleted);

        outbox.Acknowledge("e1", 1);

        Assert.Equal(4, (await fourth.WaitAsync(TimeSpan.FromSeconds(10))).Sequence);
        Assert.Equal([2L, 3L, 4L], outbox.Due(all: true).Select(m => m.Sequence!.Value));
    }
}
