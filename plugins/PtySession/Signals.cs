using System.Runtime.InteropServices;

namespace PluginHost.Plugins.PtySession;

/// <summary>Signals by name, sent to a session's whole process group.</summary>
internal static partial class Signals
{
    public static readonly IReadOnlyDictionary<string, int> ByName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["KILL"] = 9, ["USR1"] = 10, ["USR2"] = 12, ["TERM"] = 15, ["CONT"] = 18, ["STOP"] = 19, ["TSTP"] = 20, ["WINCH"] = 28,
    };

    /// <returns>0, or the errno.</returns>
    public static int SendToGroup(int processGroup, int signal) => kill(-processGroup, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
