using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>What a launchd-service spec accepts, what it refuses (with where and why), and the defaults it gives the engine.</summary>
public sealed class LaunchdSpecTests
{
    [Fact]
    public void The_kind_defaults_are_launchds_throttle_exit_timeout_and_no_give_up()
    {
        var defaults = new LaunchdDriver().Defaults(SpecYaml.Parse("ProgramArguments: [/bin/true]"));
        Assert.False(defaults.Autostart); // RunAtLoad's default
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.Restart!.MinInterval);
        Assert.Equal(TimeSpan.Zero, defaults.Restart.InitialBackoff);
        Assert.Equal(int.MaxValue, defaults.Restart.MaxRestarts);
        Assert.Equal(new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(20)), defaults.Stop);

        var set = new LaunchdDriver().Defaults(SpecYaml.Parse("ProgramArguments: [/bin/true]\nRunAtLoad: true\nThrottleInterval: 30\nExitTimeOut: 2"));
        Assert.True(set.Autostart);
        Assert.Equal(TimeSpan.FromSeconds(30), set.Restart!.MinInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), set.Stop!.Grace);
    }

    [Fact]
    public void Keys_it_does_not_honour_are_refused_at_their_line_with_why()
    {
        var problems = new LaunchdDriver().Validate(SpecYaml.Parse("""
            ProgramArguments: [/bin/true]
            StartCalendarInterval: { Hour: 3 }
            AbandonProcessGroup: true
            KeepAlive: { NetworkState: true, SucessfulExit: true }
            ExitTimeOut: 0
            Labl: x
            """, "/m/job.yaml"));
        var text = string.Join("\n", problems);
        Assert.Contains("spec.StartCalendarInterval", text, StringComparison.Ordinal);
        Assert.Contains("calendar starts are not supported", text, StringComparison.Ordinal);
        Assert.Contains("no orphans", text, StringComparison.Ordinal);
        Assert.Contains("spec.KeepAlive.NetworkState: found unknown key", text, StringComparison.Ordinal);
        Assert.Contains("expected one of Crashed, OtherJobEnabled, PathState, SuccessfulExit", text, StringComparison.Ordinal);
        Assert.DoesNotContain("one of AbandonProcessGroup, EnvironmentVariables, ExitTimeOut, GroupName, KeepAlive, Label, Program, ProgramArguments, RunAtLoad, StandardErrorPath, StandardOutPath, Start", text, StringComparison.Ordinal);
        Assert.Contains("did you mean \"SuccessfulExit\"", text, StringComparison.Ordinal);
        Assert.True(text.Contains("did you mean \"Label\"", StringComparison.Ordinal), text);
        Assert.Contains("spec.ExitTimeOut", text, StringComparison.Ordinal);
        Assert.All(problems, p => Assert.True(p.Location.Line > 0, p.ToString()));
    }

    [Fact]
    public void A_job_needs_a_program()
    {
        var problems = new LaunchdDriver().Validate(SpecYaml.Parse("RunAtLoad: true"));
        Assert.Contains(problems, p => p.ToString().Contains("ProgramArguments", StringComparison.Ordinal));
    }
}
