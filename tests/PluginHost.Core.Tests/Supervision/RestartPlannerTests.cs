using PluginHost.Contracts.Supervision;
using PluginHost.Core.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

public sealed class RestartPlannerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static RestartPlanner Planner(RestartSettings settings, double random = 0.5) => new(settings, () => random);

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Backoff_doubles_from_the_initial_delay_up_to_the_cap()
    {
        var planner = Planner(new RestartSettings { Policy = RestartPolicy.Always, InitialBackoff = S(1), MaxBackoff = S(10), Jitter = 0.2, MinInterval = TimeSpan.Zero, MaxRestarts = 100 });
        var now = T0;
        var delays = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            planner.OnStarted(now);
            var decision = planner.OnEnded(now + S(1), failed: true, uptime: S(1));
            delays.Add(decision.Delay.TotalSeconds);
            now += S(1) + decision.Delay;
        }

        Assert.Equal([1, 2, 4, 8, 10, 10], delays);
    }

    [Theory]
    [InlineData(0.0, 2.0)]
    [InlineData(0.5, 2.0)]
    [InlineData(1.0, 1.0)]
    public void The_schedule_stays_a_number_for_any_count_of_restarts(double initialSeconds, double multiplier)
    {
        var planner = Planner(new RestartSettings { Policy = RestartPolicy.Always, InitialBackoff = S(initialSeconds), Multiplier = multiplier, MaxBackoff = S(30),
            MinInterval = TimeSpan.Zero, MaxRestarts = int.MaxValue, Window = S(1) });
        var now = T0;
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 3000; i++)
        {
            planner.OnStarted(now);
            var decision = planner.OnEnded(now, failed: true, uptime: TimeSpan.Zero);
            Assert.Equal(RestartAction.Restart, decision.Action);
            delays.Add(decision.Delay);
            now += S(2);
        }

        var expected = initialSeconds == 0 ? TimeSpan.Zero : S(Math.Min(30, initialSeconds * Math.Pow(multiplier, 2999)));
        Assert.Equal(expected, delays[^1]);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, S(30)));
    }

    [Theory]
    [InlineData(0.0, 0.8)]
    [InlineData(1.0, 1.2)]
    [InlineData(0.25, 0.9)]
    public void Jitter_moves_the_delay_by_up_to_its_fraction(double random, double expectedSeconds)
    {
        var planner = Planner(new RestartSettings { InitialBackoff = S(1), Jitter = 0.2, MinInterval = TimeSpan.Zero }, random);

        var decision = planner.OnEnded(T0, failed: true, uptime: S(1));

        Assert.Equal(expectedSeconds, decision.Delay.TotalSeconds, 6);
    }

    [Theory]
    [InlineData(RestartPolicy.Always, false, true)]
    [InlineData(RestartPolicy.Always, true, true)]
    [InlineData(RestartPolicy.OnFailure, false, false)]
    [InlineData(RestartPolicy.OnFailure, true, true)]
    [InlineData(RestartPolicy.Never, true, false)]
    public void The_policy_decides_whether_an_exit_restarts(RestartPolicy policy, bool failed, bool restarts)
    {
        Assert.Equal(restarts ? RestartAction.Restart : RestartAction.None, Planner(new RestartSettings { Policy = policy }).OnEnded(T0, failed, S(1)).Action);
    }

    [Fact]
    public void More_restarts_than_the_limit_within_the_window_gives_up_and_the_window_slides()
    {
        var planner = Planner(new RestartSettings { InitialBackoff = TimeSpan.Zero, Jitter = 0, MaxRestarts = 3, Window = S(10), MinInterval = TimeSpan.Zero });

        var decisions = new[] { 0, 1, 2, 3 }.Select(t => planner.OnEnded(T0 + S(t), true, S(1))).ToArray();
        var afterWindow = planner.OnEnded(T0 + S(10.5), true, S(1));

        Assert.Equal([RestartAction.Restart, RestartAction.Restart, RestartAction.Restart, RestartAction.GiveUp], decisions.Select(d => d.Action));
        Assert.Equal("3 restarts within 10s", decisions[3].Reason);
        Assert.Equal(RestartAction.Restart, afterWindow.Action);
    }

    [Fact]
    public void A_stable_uptime_resets_the_backoff()
    {
        var planner = Planner(new RestartSettings { InitialBackoff = S(1), Jitter = 0, ResetAfter = S(60), MinInterval = TimeSpan.Zero, MaxRestarts = 100, Window = S(1) });

        var first = planner.OnEnded(T0, true, S(1));
        var second = planner.OnEnded(T0 + S(5), true, S(1));
        var afterStableRun = planner.OnEnded(T0 + S(100), true, S(61));

        Assert.Equal([1, 2, 1], new[] { first, second, afterStableRun }.Select(d => d.Delay.TotalSeconds));
    }

    [Fact]
    public void The_minimum_interval_between_starts_holds_whatever_the_backoff()
    {
        var planner = Planner(new RestartSettings { InitialBackoff = S(0.1), Jitter = 0, MinInterval = S(30) });
        planner.OnStarted(T0);

        var decision = planner.OnEnded(T0 + S(2), true, S(2));

        Assert.Equal(S(28), decision.Delay);
    }

    [Fact]
    public void An_operator_start_forgets_past_failures()
    {
        var planner = Planner(new RestartSettings { InitialBackoff = TimeSpan.Zero, Jitter = 0, MaxRestarts = 1, MinInterval = TimeSpan.Zero });
        planner.OnEnded(T0, true, S(1));
        Assert.Equal(RestartAction.GiveUp, planner.OnEnded(T0 + S(1), true, S(1)).Action);

        planner.Reset();

        Assert.Equal(RestartAction.Restart, planner.OnEnded(T0 + S(2), true, S(1)).Action);
    }
}
