using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace PluginHost.Core.Processes;

/// <summary>
/// The exits of output holders, seen by a check every 2 s rather than a pidfd each. A holder's
/// death is rare (a stray kill) and only matters if the host also crashes before it is replaced,
/// while a pidfd per holder was one more descriptor per unit — on a host at its limit, 20 % fewer
/// units — and one more for every spawn to copy (see <see cref="DescriptorReserve"/>). A pass costs
/// a syscall per holder: ≈ 2 ms for 5,000.
/// </summary>
internal static unsafe class HolderExits
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly ConcurrentDictionary<int, Watched> Watching = new();
    private static readonly Timer Poll = new(_ => Check(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    private static int _started;

    /// <param name="isChild">The host started it (and reaps it); otherwise an earlier host did, and init reaps it.</param>
    public static Task<ExitStatus> WhenExited(int pid, bool isChild)
    {
        var watched = new Watched(pid, isChild, new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously));
        Watching[pid] = watched;
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            Poll.Change(Interval, Interval);
        }

        return watched.Exited.Task;
    }

    private static void Check()
    {
        foreach (var (pid, watched) in Watching)
        {
            if (Ended(watched, out var status) && Watching.TryRemove(new KeyValuePair<int, Watched>(pid, watched)))
            {
                watched.Exited.SetResult(status);
            }
        }
    }

    private static bool Ended(Watched watched, out ExitStatus status)
    {
        status = ExitStatus.Unknown;
        if (!watched.IsChild)
        {
            // A holder leads its own session: a pid that no longer does is gone (or reused by another).
            return LibC.getsid(watched.Pid) != watched.Pid;
        }

        int wait;
        int result;
        while ((result = LibC.waitpid(watched.Pid, &wait, LibC.WNOHANG)) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }

        if (result == watched.Pid)
        {
            status = ExitStatus.FromWaitStatus(wait);
        }

        return result != 0; // reaped now, or not a child of this host any more (ECHILD)
    }

    private sealed record Watched(int Pid, bool IsChild, TaskCompletionSource<ExitStatus> Exited);
}
