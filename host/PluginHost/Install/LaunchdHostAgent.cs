using System.Security;
using System.Text;

namespace PluginHost.Install;

/// <summary>
/// The LaunchAgent (with <c>--user</c>) or LaunchDaemon that runs the host at login or boot on macOS:
/// RunAtLoad and KeepAlive true, an ExitTimeOut long enough for the host to stop its units, the
/// host's own output in the data folder.
/// </summary>
internal static class LaunchdHostAgent
{
    public const string Label = "com.pluginhost.host";

    public static string Folder(bool user) => user
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Library", "LaunchAgents")
        : "/Library/LaunchDaemons";

    public static string Text(HostLaunch launch, string label)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var text = new StringBuilder();
        text.Append("""
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <!-- Written by pluginhost install (launchd; docs/launchd.md): the PluginHost host, started at load. -->
            <plist version="1.0">
            <dict>

            """);
        Key(text, "Label").Append("\t<string>").Append(Xml(label)).Append("</string>\n");
        Key(text, "ProgramArguments").Append("\t<array>\n");
        foreach (var word in launch.Command)
        {
            text.Append("\t\t<string>").Append(Xml(word)).Append("</string>\n");
        }

        text.Append("\t</array>\n");
        Key(text, "WorkingDirectory").Append("\t<string>").Append(Xml(launch.ManifestsDirectory)).Append("</string>\n");
        Key(text, "RunAtLoad").Append("\t<true/>\n");
        Key(text, "KeepAlive").Append("\t<true/>\n");
        Key(text, "ThrottleInterval").Append("\t<integer>5</integer>\n");
        Key(text, "ExitTimeOut").Append("\t<integer>").Append(HostLaunch.Seconds(launch.StopTimeout)).Append("</integer>\n");
        Key(text, "ProcessType").Append("\t<string>Standard</string>\n");
        Key(text, "StandardOutPath").Append("\t<string>").Append(Xml(Path.Combine(launch.DataDirectory, "logs", "host.log"))).Append("</string>\n");
        Key(text, "StandardErrorPath").Append("\t<string>").Append(Xml(Path.Combine(launch.DataDirectory, "logs", "host.error.log"))).Append("</string>\n");
        text.Append("</dict>\n</plist>\n");
        return text.ToString();
    }

    private static StringBuilder Key(StringBuilder text, string key) => text.Append("\t<key>").Append(key).Append("</key>\n");

    private static string Xml(string text) => text.Any(c => c < 0x20)
        ? throw new ArgumentException($"\"{text}\" holds a control character, which a plist cannot carry", nameof(text))
        : SecurityElement.Escape(text);
}
