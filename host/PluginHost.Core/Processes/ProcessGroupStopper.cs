namespace PluginHost.Core.Processes;

/// <summary>
/// Stops everything a unit started: the stop signal to every member of its family (its process
/// group, whatever else is in its session, and every descendant that left the session), a grace
/// period, then SIGKILL to whatever is left — so a leftover grandchild can never hold the unit's
/// port, keep its output pipe open, or double its work.
/// </summary>
internal static class ProcessGroupStopper
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan KillDeadline = TimeSpan.FromSeconds(5);

    /// <returns>True when the signal sufficed; false when SIGKILL was needed.</returns>
    public static Task<bool> StopAsync(int session, int signal, TimeSpan grace, TimeProvider time, CancellationToken cancellationToken = default) =>
        StopAsync(new ProcessFamily(session), signal, grace, time, cancellationToken);

    /// <returns>True when the signal sufficed; false when SIGKILL was needed.</returns>
    public static async Task<bool> StopAsync(ProcessFamily family, int signal, TimeSpan grace, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(time);
        if (Signal(family, signal) == 0)
        {
            return true;
        }

        if (await WaitUntilEmptyAsync(family, grace, time, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        Signal(family, LibC.SIGKILL);
        await WaitUntilEmptyAsync(family, KillDeadline, time, cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>True when no process of the session is alive (zombies excepted: they hold nothing).</summary>
    public static bool IsEmpty(int session) => ProcStat.SessionMembers(session).Count == 0;

    /// <returns>How many processes were signalled.</returns>
    public static int Signal(int session, int signal) => Signal(new ProcessFamily(session), signal);

    /// <returns>How many processes were signalled.</returns>
    public static int Signal(ProcessFamily family, int signal)
    {
        ArgumentNullException.ThrowIfNull(family);

        // Scanned before anything is signalled: once the unit's main process dies, its children are
        // init's, and parentage no longer leads to those that left the session.
        var members = family.Members();
        LibC.kill(-family.Session, signal);
        foreach (var member in members.Where(m => m.ProcessGroup != family.Session))
        {
            LibC.kill(member.Pid, signal);
        }

        return members.Count;
    }

    private static async Task<bool> WaitUntilEmptyAsync(ProcessFamily family, TimeSpan deadline, TimeProvider time, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var members = family.Members();
        while (members.Count > 0)
        {
            if (time.GetElapsedTime(start) >= deadline)
            {
                return false;
            }

            await Task.Delay(CheckInterval, time, cancellationToken).ConfigureAwait(false);

            // While a member seen last time still runs, that is all a check needs to know: the family
            // is looked for again (every process on the machine asked) only once they are all gone,
            // for any it started meanwhile. 3,000 units stopping at once each looked every 10 ms.
            if (!members.Exists(StillRuns))
            {
                members = family.Members();
            }
        }

        return true;
    }

    private static bool StillRuns(ProcStat member) =>
        ProcStat.Read(member.Pid) is { IsZombie: false } now && now.StartTimeTicks == member.StartTimeTicks;
}
