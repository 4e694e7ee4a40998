using PluginHost.Contracts.Units;
using PluginHost.Core.Supervision.Health;
using Xunit;

namespace PluginHost.Core.Tests.Supervision.Health;

public sealed class ConsecutiveFailuresTests
{
    [Fact]
    public void Trips_at_the_threshold_of_failures_in_a_row()
    {
        var policy = new ConsecutiveFailures(3);

        Assert.False(policy.Record(ProbeStatus.Unhealthy));
        Assert.False(policy.Record(ProbeStatus.Unhealthy));
        Assert.True(policy.Record(ProbeStatus.Unhealthy));
        Assert.Equal(3, policy.Count);
    }

    [Theory]
    [InlineData(ProbeStatus.Healthy)]
    [InlineData(ProbeStatus.Unsupported)]
    public void Any_answer_that_is_not_a_failure_starts_the_count_again(ProbeStatus between)
    {
        var policy = new ConsecutiveFailures(3);
        policy.Record(ProbeStatus.Unhealthy);
        policy.Record(ProbeStatus.Unhealthy);

        Assert.False(policy.Record(between));
        Assert.Equal(0, policy.Count);
        Assert.False(policy.Record(ProbeStatus.Unhealthy));
        Assert.False(policy.Record(ProbeStatus.Unhealthy));
        Assert.True(policy.Record(ProbeStatus.Unhealthy));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void A_threshold_below_one_trips_at_the_first_failure_not_before_any(int threshold)
    {
        var policy = new ConsecutiveFailures(threshold);

        Assert.False(policy.Record(ProbeStatus.Healthy));
        Assert.True(policy.Record(ProbeStatus.Unhealthy));
    }
}
