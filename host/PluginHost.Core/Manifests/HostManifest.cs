namespace PluginHost.Core.Manifests;

/// <summary>
/// <c>manifests/host.yaml</c>: how the host itself runs. Relative paths are resolved against the
/// folder of host.yaml.
/// </summary>
internal sealed record HostManifest
{
    public const string DefaultBind = "127.0.0.1";
    public const int DefaultPort = 7171;

    /// <summary>The host.yaml file, as shown in messages; empty when there is none.</summary>
    public string File { get; init; } = "";

    /// <summary>An IP address (<c>127.0.0.1</c>, <c>::1</c>, <c>0.0.0.0</c>…) or <c>localhost</c> (both loopbacks).</summary>
    public string ApiBind { get; init; } = DefaultBind;

    public int ApiPort { get; init; } = DefaultPort;

    /// <summary>Where the API listens, as a URL (an IPv6 address bracketed).</summary>
    public string ApiAddress
    {
        get
        {
            var bind = ApiBind.Trim('[', ']'); // --urls http://[::1]:7171 gives "[::1]"
            return $"http://{(bind.Contains(':', StringComparison.Ordinal) ? $"[{bind}]" : bind)}:{ApiPort}";
        }
    }

    /// <summary>A file holding the API's bearer token (api.tokenFile); PLUGINHOST_TOKEN in the environment wins.</summary>
    public string? ApiTokenFile { get; init; }

    public required string DataDirectory { get; init; }

    public IReadOnlyList<string> PluginDirectories { get; init; } = [];

    public bool WatchPlugins { get; init; } = true;

    /// <summary>Quiet time after the last change in a plugin folder before it is reloaded.</summary>
    public TimeSpan PluginReloadDebounce { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// <c>plugins.mounts</c>: per plugin, a prefix its own mounts (<c>IPluginRoutes.Mounts</c>) are
    /// moved under (<c>/station</c>: <c>/api/batches</c> becomes <c>/station/api/batches</c>), or
    /// <c>off</c>. A plugin not named keeps its mounts where it declares them.
    /// </summary>
    public IReadOnlyDictionary<string, string> PluginMounts { get; init; } = new Dictionary<string, string>();

    public bool WatchManifests { get; init; } = true;

    public TimeSpan ManifestDebounce { get; init; } = TimeSpan.FromMilliseconds(300);

    public string LogLevel { get; init; } = "information";

    /// <summary><c>alerts:</c> — the alerts log, the webhook, and the thresholds of restarts, disk and ports.</summary>
    public Alerts.AlertSettings Alerts { get; init; } = Core.Alerts.AlertSettings.Default;

    public string Fingerprint { get; init; } = "";

    /// <summary>Whether the API can listen on <paramref name="bind"/>: an IP address or <c>localhost</c>, not a host name.</summary>
    /// <summary>
    /// An IPv4 address written as IPv6 (<c>::ffff:127.0.0.1</c>) is that IPv4 address: an IPv6 socket
    /// cannot bind it (EINVAL), and it is as loopback as 127.0.0.1 is.
    /// </summary>
    public static string NormalizeBind(string bind) =>
        System.Net.IPAddress.TryParse(bind.Trim('[', ']'), out var address) && address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : bind;

    public static bool IsValidBind(string bind) =>
        bind.Equals("localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(bind.Trim('[', ']'), out _);
}
