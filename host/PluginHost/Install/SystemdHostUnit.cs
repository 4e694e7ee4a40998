using System.Text;

namespace PluginHost.Install;

/// <summary>
/// The systemd service that runs the host at boot, as launchd's KeepAlive would: always restarted,
/// never given up on. <c>Type=notify</c> (the host says READY=1 once its units are loaded, and
/// pings the watchdog when one is set); <c>KillMode=process</c> because the host stops its own units
/// with their grace periods, and after a host crash the new host re-attaches the units that kept
/// running — systemd must not kill them.
/// </summary>
internal static class SystemdHostUnit
{
    public static string Folder(bool user) => user
        ? Path.Combine(Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } config ? config : Path.Combine(Home(), ".config"), "systemd", "user")
        : "/etc/systemd/system";

    public static string Text(HostLaunch launch, bool user)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var text = new StringBuilder();
        text.Append("# Written by `pluginhost install --systemd` (docs/launchd.md): the PluginHost host, started at boot.\n");
        text.Append("[Unit]\n");
        text.Append("Description=PluginHost (units in ").Append(Escape(launch.ManifestsDirectory)).Append(")\n");
        if (!user)
        {
            text.Append("After=network-online.target\nWants=network-online.target\n");
        }

        text.Append("StartLimitIntervalSec=0\n\n"); // KeepAlive: never give up on the host
        text.Append("[Service]\n");
        text.Append("Type=notify\n");
        text.Append("NotifyAccess=main\n");
        text.Append("ExecStart=").Append(string.Join(' ', launch.Command.Select(Word))).Append('\n');
        text.Append("WorkingDirectory=").Append(Escape(launch.ManifestsDirectory)).Append('\n');
        text.Append("Restart=always\n");
        text.Append("RestartSec=1\n");
        text.Append("KillMode=process\n");
        text.Append("TimeoutStopSec=").Append(HostLaunch.Seconds(launch.StopTimeout)).Append('\n');
        if (launch.Watchdog is { } watchdog)
        {
            text.Append("WatchdogSec=").Append(HostLaunch.Seconds(watchdog)).Append('\n');
        }

        text.Append("\n[Install]\n");
        text.Append("WantedBy=").Append(user ? "default.target" : "multi-user.target").Append('\n');
        return text.ToString();
    }

    /// <summary>One ExecStart= word, quoted as systemd unquotes it.</summary>
    private static string Word(string word)
    {
        var escaped = Escape(word).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal);
        return word.Length > 0 && !word.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\' or ';' or '$') ? escaped : "\"" + escaped + "\"";
    }

    private static string Escape(string text) => text.Any(char.IsControl)
        ? throw new ArgumentException($"\"{text}\" holds a control character, which a unit file cannot carry", nameof(text))
        : text.Replace("%", "%%", StringComparison.Ordinal);

    private static string Home() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
