using System.Globalization;

namespace PluginHost.Install;

/// <summary>
/// How the OS supervisor should start this host at boot: the executable (the apphost beside this
/// assembly, else <c>dotnet pluginhost.dll</c>), <c>run</c> with absolute folders, and how long a
/// stop may take (the longest unit grace, plus time to drain).
/// </summary>
internal sealed record HostLaunch(IReadOnlyList<string> Command, string ManifestsDirectory, string DataDirectory, TimeSpan StopTimeout, TimeSpan? Watchdog)
{
    public static HostLaunch For(string manifests, string data, TimeSpan longestGrace, TimeSpan? watchdog)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "pluginhost");
        IReadOnlyList<string> executable = File.Exists(apphost) ? [apphost] : ["/usr/bin/env", "dotnet", Path.Combine(AppContext.BaseDirectory, "pluginhost.dll")];
        var stop = longestGrace + TimeSpan.FromSeconds(30);
        return new HostLaunch([.. executable, "run", "--manifests", manifests, "--data", data], manifests, data,
            stop < TimeSpan.FromSeconds(90) ? TimeSpan.FromSeconds(90) : stop, watchdog);
    }

    public static string Seconds(TimeSpan t) => Math.Ceiling(t.TotalSeconds).ToString(CultureInfo.InvariantCulture);
}
