namespace PluginHost.Core.Processes;

/// <summary>
/// Stops everything a unit started: the stop signal to every member of its session (the process
/// group, plus any member that moved to another group), a grace period, then SIGKILL to whatever
/// is left — so a leftover grandchild can never hold the unit's port or double its work.
/// </summary>
internal static class ProcessGroupStopper
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan KillDeadline = TimeSpan.FromSeconds(5);

    /// <returns>True when the signal sufficed; false when SIGKILL was needed.</returns>
    public static async Task<bool> StopAsync(int session, int signal, TimeSpan grace, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (Signal(session, signal) == 0)
        {
            return true;
        }

        if (await WaitUntilEmptyAsync(session, grace, time, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        Signal(session, LibC.SIGKILL);
        await WaitUntilEmptyAsync(session, KillDeadline, time, cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>True when no process of the session is alive (zombies excepted: they hold nothing).</summary>
    public static bool IsEmpty(int session) => ProcStat.SessionMembers(session).Count == 0;

    /// <returns>How many processes were signalled.</returns>
    public static int Signal(int session, int signal)
    {
        LibC.kill(-session, signal);
        var members = ProcStat.SessionMembers(session);
        foreach (var member in members.Where(m => m.ProcessGroup != session))
        {
            LibC.kill(member.Pid, signal);
        }

        return members.Count;
    }

    private static async Task<bool> WaitUntilEmptyAsync(int session, TimeSpan deadline, TimeProvider time, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        while (!IsEmpty(session))
        {
            if (time.GetElapsedTime(start) >= deadline)
            {
                return false;
            }

            await Task.Delay(CheckInterval, time, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
