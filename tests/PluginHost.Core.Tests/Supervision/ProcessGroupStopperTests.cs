using System.Diagnostics;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>
/// The stop's grace on a clock the test moves: a group that ignores SIGTERM gets exactly its grace,
/// then SIGKILL. (On the wall clock, "the stop took about the grace" depends on how busy the machine
/// is: a CI run on two loaded cores once took 3.2 s for a 1 s grace.)
/// </summary>
public sealed class ProcessGroupStopperTests : IDisposable
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(10);
    private readonly ManualTimeProvider _clock = new();
    private readonly Process _leader;

    public ProcessGroupStopperTests()
    {
        // setsid execs bash in place (a child of .NET is no group leader), so bash leads a new session.
        _leader = Process.Start(new ProcessStartInfo("setsid", ["/bin/bash", "-c", "trap \"\" TERM; (sleep 300) & sleep 300 & while true; do sleep 0.05; done"]))!;
    }

    public void Dispose()
    {
        ProcessGroupStopper.Signal(_leader.Id, LibC.SIGKILL);
        _leader.WaitForExit();
        _leader.Dispose();
    }

    [Fact]
    public async Task A_group_that_ignores_SIGTERM_gets_exactly_its_grace_then_SIGKILL()
    {
        var session = _leader.Id;
        await Eventually.TrueAsync(() => ProcStat.SessionMembers(session).Count >= 4, EngineFixture.Deadline, "the group to start");
        Assert.Equal(session, ProcStat.Read(session)!.Session);

        // Everything up to the first wait runs before StopAsync returns: SIGTERM sent, the grace started at clock zero.
        var stop = ProcessGroupStopper.StopAsync(session, LibC.SIGTERM, Grace, _clock);

        _clock.Advance(Grace - CheckInterval);
        // Still running just before the grace ends: the leader's loop keeps starting new sleeps
        // (every member ignores SIGTERM: bash passes the ignore on to what it starts).
        var seen = ProcStat.SessionMembers(session).Select(m => m.Pid).ToHashSet();
        await Eventually.TrueAsync(() => ProcStat.SessionMembers(session).Any(m => !seen.Contains(m.Pid)), EngineFixture.Deadline, "a new member: the group still runs");
        Assert.False(stop.IsCompleted);

        // The check at exactly the grace sends SIGKILL: the group dies without the clock moving further.
        _clock.Advance(CheckInterval);
        await Eventually.TrueAsync(() => ProcStat.SessionMembers(session).Count == 0, EngineFixture.Deadline, "SIGKILL at the grace");

        _clock.Advance(CheckInterval);
        Assert.False(await stop, "the group needed SIGKILL");
    }

    [Fact]
    public async Task A_group_that_ends_on_SIGTERM_is_done_without_waiting_for_the_grace()
    {
        using var polite = Process.Start(new ProcessStartInfo("setsid", ["/bin/bash", "-c", "sleep 300 & wait"]))!;
        await Eventually.TrueAsync(() => ProcStat.SessionMembers(polite.Id).Count >= 2, EngineFixture.Deadline, "the group to start");

        var stop = ProcessGroupStopper.StopAsync(polite.Id, LibC.SIGTERM, Grace, _clock);
        await Eventually.TrueAsync(() => ProcStat.SessionMembers(polite.Id).Count == 0, EngineFixture.Deadline, "SIGTERM to end the group");
        _clock.Advance(CheckInterval);

        Assert.True(await stop, "SIGTERM sufficed");
        await polite.WaitForExitAsync();
    }
}
