using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PluginHost.Core.Processes;

/// <summary>
/// The small process that keeps a unit's output pipes open outside the host (DESIGN.md §4 "Host
/// restart"): its fd 3 and fd 4 are the read ends of the unit's stdout and stderr.
/// </summary>
internal static unsafe class OutputHolder
{
    public const int StdoutFd = 3;
    public const int StderrFd = 4;

    /// <summary>Opens, from another process, a pipe the holder keeps: a new read end of the same pipe.</summary>
    public static SafePipeHandle Reopen(int holderPid, int fd)
    {
        var path = $"/proc/{holderPid}/fd/{fd}";
        var handle = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
        return handle >= 0
            ? new SafePipeHandle(handle, ownsHandle: true)
            : throw new IOException($"cannot open {path}: {Marshal.GetLastPInvokeErrorMessage()}");
    }

    /// <summary>Ends the holder once the unit's output is fully read; reaps it when it is the host's child and nothing watches it.</summary>
    public static void Release(int holderPid, long startTimeTicks, bool isChild, bool watched = false)
    {
        if (holderPid <= 0 || ProcStat.Read(holderPid) is not { } stat || stat.StartTimeTicks != startTimeTicks)
        {
            return;
        }

        LibC.kill(holderPid, LibC.SIGKILL);
        if (isChild && !watched)
        {
            _ = HolderExits.WhenExited(holderPid, isChild: true); // reaped by the next check
        }
    }
}
