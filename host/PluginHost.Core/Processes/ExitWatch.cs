using System.Runtime.InteropServices;

namespace PluginHost.Core.Processes;

/// <summary>
/// Observes a process's exit as an event, not by polling: a pidfd becomes readable when the
/// process ends (a blocked poll on a small dedicated thread), then the host's own child is reaped
/// with waitpid so no zombie is left and its exit code or signal is known.
/// </summary>
internal static unsafe class ExitWatch
{
    public static Task<ExitStatus> WhenExited(int pid, bool isChild)
    {
        var exited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => exited.SetResult(Wait(pid, isChild)), maxStackSize: 256 * 1024)
        {
            IsBackground = true,
            Name = $"exit-watch {pid}",
        };
        thread.Start();
        return exited.Task;
    }

    private static ExitStatus Wait(int pid, bool isChild)
    {
        var pidfd = LibC.PidFdOpen(pid);
        if (pidfd >= 0)
        {
            var fd = new LibC.PollFd { Fd = pidfd, Events = LibC.POLLIN };
            while (LibC.poll(&fd, 1, -1) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
            {
            }

            LibC.close(pidfd);
        }
        else if (!isChild)
        {
            return ExitStatus.Unknown; // already gone
        }

        if (!isChild)
        {
            return ExitStatus.Unknown;
        }

        int status;
        int result;
        while ((result = LibC.waitpid(pid, &status, 0)) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }

        return result == pid ? ExitStatus.FromWaitStatus(status) : ExitStatus.Unknown;
    }
}
