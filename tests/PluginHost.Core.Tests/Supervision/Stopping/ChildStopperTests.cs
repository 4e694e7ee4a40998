using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Processes;
using PluginHost.Core.Supervision.Launch;
using PluginHost.Core.Supervision.Stopping;
using Xunit;

namespace PluginHost.Core.Tests.Supervision.Stopping;

public sealed class ChildStopperTests : IDisposable
{
    private static readonly StopSettings ShortGrace = new(UnixSignal.Term, TimeSpan.FromMilliseconds(300));
    private readonly TempDirectory _dir = new("stopper");
    private readonly UnitLog _log;

    public ChildStopperTests() => _log = new UnitLog(_dir.Combine("u.log"), LogSettings.Default);

    public void Dispose()
    {
        _log.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_process_that_honours_the_stop_signal_ends_with_it_and_its_group_with_it()
    {
        var child = Spawn("sleep 60 & sleep 60 & echo started; wait");
        await Eventually.TrueAsync(() => _log.LinesCaptured == 1, TimeSpan.FromSeconds(10), "the children to start");
        var family = FamilyPids(child);
        Assert.Equal(3, family.Count);

        var outcome = await ChildStopper.StopAsync(child, _ => ValueTask.CompletedTask, _ => { }, TimeProvider.System);

        Assert.True(outcome.Graceful);
        Assert.Equal(LibC.SIGTERM, outcome.Exit.Signal);
        Assert.All(family, pid => Assert.False(EngineFixture.IsAlive(pid), $"pid {pid} of the group outlived the stop"));
    }

    [Fact]
    public async Task A_group_that_ignores_the_stop_signal_is_killed_after_the_grace()
    {
        // An ignored signal is inherited through exec: the sleep ignores TERM too.
        var child = Spawn("trap '' TERM; sleep 60 & echo started; wait");
        await Eventually.TrueAsync(() => _log.LinesCaptured == 1, TimeSpan.FromSeconds(10), "the child to start");
        var family = FamilyPids(child);

        var outcome = await ChildStopper.StopAsync(child, _ => ValueTask.CompletedTask, _ => { }, TimeProvider.System);

        Assert.False(outcome.Graceful);
        Assert.Equal(LibC.SIGKILL, outcome.Exit.Signal);
        Assert.All(family, pid => Assert.False(EngineFixture.IsAlive(pid), $"pid {pid} of the group outlived the stop"));
    }

    [Fact]
    public async Task A_stop_hook_that_hangs_is_cut_off_at_the_grace_and_the_stop_goes_on()
    {
        var child = Spawn("echo started; exec sleep 60");
        string? failure = null;

        var outcome = await ChildStopper.StopAsync(child, _ => new ValueTask(new TaskCompletionSource().Task), why => failure = why, TimeProvider.System)
            .WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(LibC.SIGTERM, outcome.Exit.Signal);
        Assert.StartsWith("still running after the 300ms grace", failure);
    }

    [Fact]
    public async Task A_stop_hook_that_throws_is_reported_and_the_stop_goes_on()
    {
        var child = Spawn("exec sleep 60");
        string? failure = null;

        var outcome = await ChildStopper.StopAsync(child, _ => throw new IOException("the worker's socket is gone"), why => failure = why, TimeProvider.System);

        Assert.Equal(LibC.SIGTERM, outcome.Exit.Signal);
        Assert.Equal("the worker's socket is gone", failure);
    }

    [Fact]
    public async Task The_hook_is_not_asked_to_stop_a_process_that_has_already_ended()
    {
        var child = Spawn("exit 0");
        await child.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        var asked = false;

        var outcome = await ChildStopper.StopAsync(child, _ =>
        {
            asked = true;
            return ValueTask.CompletedTask;
        }, _ => { }, TimeProvider.System);

        Assert.False(asked);
        Assert.Equal(0, outcome.Exit.Code);
    }

    private RunningChild Spawn(string script) =>
        ChildLauncher.Spawn(new LaunchPlan("/bin/sh"), new SpawnRequest("/bin/sh", ["-c", script], new Dictionary<string, string>(), _dir.Path), ShortGrace, _log, TimeProvider.System);

    /// <summary>Every live process of the child's session (the holder has a session of its own).</summary>
    private static List<int> FamilyPids(RunningChild child) => [.. ProcStat.SessionMembers(child.Session).Select(s => s.Pid)];
}
