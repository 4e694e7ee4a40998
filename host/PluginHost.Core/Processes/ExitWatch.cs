using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace PluginHost.Core.Processes;

/// <summary>
/// Observes process exits as events, not by polling: each watched process gets a pidfd, which
/// becomes readable when the process ends; one thread blocked in epoll_wait serves every unit of
/// the host. The host's own child is then reaped with waitpid (no zombie, exit code or signal
/// known); a process the host did not start (re-attached) has an exit status that is not knowable.
/// </summary>
internal static unsafe class ExitWatch
{
    // struct epoll_event { uint32 events; uint64 data; } is packed (12 bytes) on x86-64 and naturally aligned (16) elsewhere.
    private static readonly int Stride = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;
    private static readonly int DataOffset = Stride == 12 ? 4 : 8;
    private static readonly ConcurrentDictionary<int, Watched> Watching = new();
    private static readonly Lazy<int> Epoll = new(StartLoop);

    public static Task<ExitStatus> WhenExited(int pid, bool isChild)
    {
        var exited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pidfd = LibC.PidFdOpen(pid);
        if (pidfd < 0)
        {
            if (Marshal.GetLastPInvokeError() != LibC.ESRCH)
            {
                // Out of descriptors, say: the process may well be alive, and calling it ended would start a second one.
                throw new InvalidOperationException($"cannot watch process {pid}: pidfd_open failed: {Marshal.GetLastPInvokeErrorMessage()}");
            }

            // Already gone and reaped: nothing is left to learn about it.
            exited.SetResult(ExitStatus.Unknown);
            return exited.Task;
        }

        Watching[pidfd] = new Watched(pid, isChild, exited);
        var registration = stackalloc byte[16];
        *(uint*)registration = LibC.EPOLLIN;
        *(ulong*)(registration + DataOffset) = (ulong)pidfd;
        if (LibC.epoll_ctl(Epoll.Value, LibC.EPOLL_CTL_ADD, pidfd, registration) != 0)
        {
            Watching.TryRemove(pidfd, out _);
            LibC.close(pidfd);
            throw new InvalidOperationException("epoll_ctl failed: " + Marshal.GetLastPInvokeErrorMessage());
        }

        return exited.Task;
    }

    private static int StartLoop()
    {
        var epoll = LibC.epoll_create1(LibC.O_CLOEXEC);
        if (epoll < 0)
        {
            throw new InvalidOperationException("epoll_create1 failed: " + Marshal.GetLastPInvokeErrorMessage());
        }

        new Thread(() => Loop(epoll), maxStackSize: 256 * 1024) { IsBackground = true, Name = "exit-watch" }.Start();
        return epoll;
    }

    private static void Loop(int epoll)
    {
        const int Batch = 64;
        var events = stackalloc byte[Batch * Stride];
        while (true)
        {
            var count = LibC.epoll_wait(epoll, events, Batch, -1);
            if (count < 0)
            {
                continue; // EINTR
            }

            for (var i = 0; i < count; i++)
            {
                // Forgotten before it is closed: once closed, the number is free for the next
                // process watched on another thread, whose entry this must not take.
                var pidfd = (int)*(ulong*)(events + (i * Stride) + DataOffset);
                var known = Watching.TryRemove(pidfd, out var watched);
                LibC.epoll_ctl(epoll, LibC.EPOLL_CTL_DEL, pidfd, null);
                LibC.close(pidfd);
                if (known)
                {
                    watched!.Exited.SetResult(watched.IsChild ? Reap(watched.Pid) : ExitStatus.Unknown);
                }
            }
        }
    }

    /// <summary>
    /// Reaps without waiting: a readable pidfd means the process has ended, so its zombie is there
    /// — unless it was reaped already and its pid reused, and then the one thread that serves every
    /// unit must not wait for a stranger.
    /// </summary>
    private static ExitStatus Reap(int pid)
    {
        int status;
        int result;
        while ((result = LibC.waitpid(pid, &status, LibC.WNOHANG)) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }

        return result == pid ? ExitStatus.FromWaitStatus(status) : ExitStatus.Unknown;
    }

    private sealed record Watched(int Pid, bool IsChild, TaskCompletionSource<ExitStatus> Exited);
}
