using PluginHost.Contracts.Testing;
using PluginHost.Core.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

public sealed class UsageSamplerTests
{
    [Fact]
    public void A_pass_that_costs_more_is_repeated_less_often_but_at_least_once_a_minute()
    {
        var clock = new ManualTimeProvider();
        var passes = 0;
        IEnumerable<UnitSupervisor> Units()
        {
            passes++;
            Thread.Sleep(20); // a pass over many processes: ≥ 20 ms of real time
            return [];
        }

        using var sampler = new UsageSampler(Units, clock, TimeSpan.FromSeconds(2));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, passes);

        // 20 ms × 200: the next pass is due no sooner than 4 s after this one, though the timer fires every 2 s.
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, passes);

        for (var i = 0; i < 30 && passes == 1; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(2)); // ≤ 60 s more: the longest spacing
        }

        Assert.Equal(2, passes);
    }
}
