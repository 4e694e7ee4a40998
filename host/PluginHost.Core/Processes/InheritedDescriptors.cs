using System.Globalization;

namespace PluginHost.Core.Processes;

/// <summary>
/// Descriptors the host was started with beyond stdin, stdout and stderr (a lock file of the shell
/// that started it, a pipe of its parent) are marked close-on-exec at start-up, so that no child —
/// unit, output holder, probe, helper command — inherits one. .NET's own descriptors already are.
/// </summary>
internal static class InheritedDescriptors
{
    /// <returns>How many descriptors were inherited (and are now close-on-exec).</returns>
    public static int MarkCloseOnExec()
    {
        var marked = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) && fd > 2)
            {
                var flags = LibC.fcntl(fd, LibC.F_GETFD, 0);
                if (flags >= 0 && (flags & LibC.FD_CLOEXEC) == 0 && LibC.fcntl(fd, LibC.F_SETFD, flags | LibC.FD_CLOEXEC) == 0)
                {
                    marked++;
                }
            }
        }

        return marked;
    }
}
