using PluginHost.Contracts.Units;
using Xunit;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>launchd's KeepAlive truth table (launchd.plist(5); launchd's job_keepalive ORs the conditions), every row.</summary>
public sealed class KeepAliveRuleTests
{
    private const int Segv = 11;
    private const int Term = 15;
    private static readonly UnitExit Clean = new(0, null);
    private static readonly UnitExit Failed = new(3, null);
    private static readonly UnitExit Crash = new(null, Segv);
    private static readonly UnitExit Killed = new(null, Term);

    public static TheoryData<bool?, bool?, string, bool> Exits => new()
    {
        // SuccessfulExit, Crashed, how it ended, runs again
        { true, null, "clean", true },
        { true, null, "failed", false },
        { true, null, "crash", false },
        { true, null, "killed", false },
        { false, null, "clean", false },
        { false, null, "failed", true },
        { false, null, "crash", true },   // a signal is not a successful exit
        { false, null, "killed", true },
        { null, true, "clean", false },
        { null, true, "failed", false },
        { null, true, "crash", true },
        { null, true, "killed", false },  // SIGTERM is not a crash signal
        { null, false, "clean", true },
        { null, false, "failed", true },
        { null, false, "crash", false },
        { null, false, "killed", true },
        { true, true, "clean", true },    // ORed: either condition is enough
        { true, true, "crash", true },
        { true, true, "failed", false },
        { false, false, "clean", true },  // not a crash
        { false, false, "crash", true },  // not successful
        { null, null, "clean", false },   // an empty dictionary: demand only
        { null, null, "crash", false },
    };

    [Theory]
    [MemberData(nameof(Exits))]
    public void Exit_conditions_are_ORed_as_launchd_does(bool? successfulExit, bool? crashed, string ended, bool runs)
    {
        var exit = ended switch { "clean" => Clean, "failed" => Failed, "crash" => Crash, _ => Killed };
        var verdict = new KeepAliveRule(null, successfulExit, crashed).Evaluate(exit, _ => false, _ => false);
        Assert.Equal(runs, verdict.Run);
        Assert.False(verdict.AskAgain); // nothing it depends on changes while the unit rests
        Assert.StartsWith("KeepAlive", verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    public void PathState_keeps_it_alive_while_the_path_is_as_wanted_and_is_asked_again_otherwise(bool wantExists, bool exists, bool runs)
    {
        var rule = new KeepAliveRule(null, PathState: [new("/srv/go", wantExists)]);
        foreach (var exit in new[] { null, Clean, Crash })
        {
            var verdict = rule.Evaluate(exit, path => path == "/srv/go" && exists, _ => false);
            Assert.Equal(runs, verdict.Run);
            Assert.Equal(!runs, verdict.AskAgain);
            Assert.Contains("/srv/go", verdict.Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    public void OtherJobEnabled_keeps_it_alive_while_that_unit_is_as_wanted(bool wantEnabled, bool enabled, bool runs)
    {
        var rule = new KeepAliveRule(null, OtherJobEnabled: [new("db", wantEnabled)]);
        var verdict = rule.Evaluate(Clean, _ => false, unit => unit == "db" && enabled);
        Assert.Equal(runs, verdict.Run);
        Assert.Equal(!runs, verdict.AskAgain);
    }

    [Fact]
    public void Before_a_first_run_SuccessfulExit_implies_RunAtLoad_and_Crashed_false_holds()
    {
        Assert.True(new KeepAliveRule(null, SuccessfulExit: true).Evaluate(null, _ => false, _ => false).Run);
        Assert.True(new KeepAliveRule(null, SuccessfulExit: false).Evaluate(null, _ => false, _ => false).Run);
        Assert.True(new KeepAliveRule(null, Crashed: false).Evaluate(null, _ => false, _ => false).Run);
        Assert.False(new KeepAliveRule(null, Crashed: true).Evaluate(null, _ => false, _ => false).Run);
        Assert.True(new KeepAliveRule(true).Evaluate(null, _ => false, _ => false).Run);
        Assert.False(KeepAliveRule.Off.Evaluate(null, _ => true, _ => true).Run);
    }

    [Fact]
    public void The_boolean_form_ignores_how_it_ended()
    {
        foreach (var exit in new[] { Clean, Failed, Crash, Killed })
        {
            Assert.True(new KeepAliveRule(true).Evaluate(exit, _ => false, _ => false).Run);
            Assert.False(new KeepAliveRule(false).Evaluate(exit, _ => true, _ => true).Run);
        }
    }
}
