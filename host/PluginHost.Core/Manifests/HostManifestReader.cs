using PluginHost.Contracts.Specs;

namespace PluginHost.Core.Manifests;

/// <summary>Reads <c>host.yaml</c>. A missing file is allowed: every setting has a default.</summary>
internal static class HostManifestReader
{
    public const string FileName = "host.yaml";

    public static (HostManifest? Manifest, IReadOnlyList<ManifestProblem> Problems) ReadDirectory(string manifestsDirectory)
    {
        ArgumentNullException.ThrowIfNull(manifestsDirectory);
        var path = Path.Combine(manifestsDirectory, FileName);
        var display = ManifestPaths.Display(path);
        if (!File.Exists(path))
        {
            return (Defaults(manifestsDirectory), []);
        }

        var (root, parseProblems) = YamlDocumentReader.ReadFile(path, display);
        if (parseProblems.Count > 0 || root is null)
        {
            return (null, ProblemList.OfOneFile(parseProblems));
        }

        var (manifest, problems) = Read(root, display, manifestsDirectory);
        return (manifest, ProblemList.OfOneFile(problems));
    }

    public static HostManifest Defaults(string manifestsDirectory) => new()
    {
        DataDirectory = Path.GetFullPath(Path.Combine(manifestsDirectory, "..", "data")),
    };

    public static (HostManifest? Manifest, IReadOnlyList<ManifestProblem> Problems) Read(SpecNode root, string display, string manifestsDirectory)
    {
        var problems = new List<SpecProblem>();
        var reader = SpecReader.ForNode(root, problems);
        if (reader is null)
        {
            return (null, problems.Select(ManifestProblem.From).ToArray());
        }

        var defaults = Defaults(manifestsDirectory);
        var apiVersion = reader.RequiredString("apiVersion");
        if (apiVersion.Length > 0 && apiVersion != UnitManifestReader.ApiVersion)
        {
            reader.Report(reader.Mapping["apiVersion"]!, $"\"{apiVersion}\"", $"\"{UnitManifestReader.ApiVersion}\"");
        }

        var manifest = defaults with { File = display, Fingerprint = Manifests.Fingerprint.Of(root) };
        if (reader.Section("api") is { } api)
        {
            var bind = api.String("bind");
            if (bind is not null && !HostManifest.IsValidBind(bind))
            {
                api.Report(api.Mapping["bind"]!, $"\"{bind}\"", "an IP address to listen on (127.0.0.1, ::1, or 0.0.0.0 for every interface) or localhost");
            }

            manifest = manifest with
            {
                ApiBind = bind is null ? manifest.ApiBind : HostManifest.NormalizeBind(bind),
                ApiPort = api.Int("port", 0, 65535) ?? manifest.ApiPort,
                ApiTokenFile = api.String("tokenFile") is { } tokenFile ? Resolve(manifestsDirectory, tokenFile) : null,
            };
            api.RejectUnknownKeys();
        }

        if (reader.String("dataDir") is { } dataDir)
        {
            manifest = manifest with { DataDirectory = Resolve(manifestsDirectory, dataDir) };
        }

        if (reader.Section("plugins") is { } plugins)
        {
            manifest = manifest with
            {
                PluginDirectories = plugins.StringList("directories").Select(d => Resolve(manifestsDirectory, d)).ToArray(),
                WatchPlugins = plugins.Bool("watch") ?? manifest.WatchPlugins,
                PluginReloadDebounce = plugins.Duration("debounce") ?? manifest.PluginReloadDebounce,
                PluginMounts = MountsOf(plugins),
            };
            plugins.RejectUnknownKeys();
        }

        if (reader.Section("manifests") is { } manifests)
        {
            manifest = manifest with
            {
                WatchManifests = manifests.Bool("watch") ?? manifest.WatchManifests,
                ManifestDebounce = manifests.Duration("debounce") ?? manifest.ManifestDebounce,
            };
            manifests.RejectUnknownKeys();
        }

        if (reader.Section("logs") is { } logs)
        {
            manifest = manifest with { LogLevel = logs.OneOf("level", "verbose", "debug", "information", "warning", "error") ?? manifest.LogLevel };
            logs.RejectUnknownKeys();
        }

        if (reader.Section("alerts") is { } alerts)
        {
            manifest = manifest with { Alerts = ReadAlerts(alerts) };
            alerts.RejectUnknownKeys();
        }

        reader.RejectUnknownKeys();
        return problems.Count > 0 ? (null, problems.Select(ManifestProblem.From).ToArray()) : (manifest, []);
    }

    /// <summary>
    /// <code>
    /// alerts:
    ///   log: true                          # DATA/logs/alerts.log, one line per alert
    ///   webhook: { url: https://hooks.example/pluginhost, tokenEnv: ALERT_TOKEN, timeout: 5s, attempts: 6 }
    ///   restarts: { count: 5, window: 10m } # more restarts than this within the window: RESTARTING_TOO_OFTEN
    ///   disk: { minFree: 10%, minFreeBytes: 1GiB, interval: 1m }
    ///   ports: { interval: 10s }           # or off: running units' ports are not checked
    ///   repeatAfter: 10m                   # the same alert again only after this
    /// </code>
    /// </summary>
    private static Alerts.AlertSettings ReadAlerts(SpecReader alerts)
    {
        var settings = Alerts.AlertSettings.Default with
        {
            Log = alerts.Bool("log") ?? true,
            RepeatAfter = alerts.Duration("repeatAfter") ?? Alerts.AlertSettings.Default.RepeatAfter,
        };
        if (alerts.Section("webhook") is { } webhook)
        {
            var url = webhook.RequiredString("url");
            if (url.Length > 0 && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                webhook.Report(webhook.Mapping["url"]!, $"\"{url}\"", "an http:// or https:// URL to POST each alert to");
            }
            else if (url.Length > 0)
            {
                settings = settings with { WebhookUrl = new Uri(url) };
            }

            settings = settings with
            {
                WebhookTokenVariable = webhook.String("tokenEnv"),
                WebhookTimeout = webhook.Duration("timeout", TimeSpan.FromMilliseconds(100)) ?? settings.WebhookTimeout,
                WebhookAttempts = webhook.Int("attempts", 1, 100) ?? settings.WebhookAttempts,
            };
            webhook.RejectUnknownKeys();
        }

        if (alerts.Section("restarts") is { } restarts)
        {
            settings = settings with
            {
                RestartCount = restarts.Int("count", 1, 100_000) ?? settings.RestartCount,
                RestartWindow = restarts.Duration("window", TimeSpan.FromSeconds(1)) ?? settings.RestartWindow,
            };
            restarts.RejectUnknownKeys();
        }

        if (alerts.Section("disk") is { } disk)
        {
            var fraction = settings.DiskMinFreeFraction;
            if (disk.String("minFree") is { } minFree)
            {
                if (minFree.EndsWith('%') && double.TryParse(minFree[..^1], System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var percent) && percent is >= 0 and < 100)
                {
                    fraction = percent / 100;
                }
                else
                {
                    disk.Report(disk.Mapping["minFree"]!, $"\"{minFree}\"", "a percentage of the disk, such as 10%");
                }
            }

            var bytes = settings.DiskMinFreeBytes;
            if (disk.String("minFreeBytes") is { } text)
            {
                if (ByteSize(text) is { } parsed)
                {
                    bytes = parsed;
                }
                else
                {
                    disk.Report(disk.Mapping["minFreeBytes"]!, $"\"{text}\"", "a size such as 500MiB or 2GiB (0 for none)");
                }
            }

            settings = settings with { DiskMinFreeFraction = fraction, DiskMinFreeBytes = bytes, DiskInterval = disk.Duration("interval", TimeSpan.FromMilliseconds(100)) ?? settings.DiskInterval };
            disk.RejectUnknownKeys();
        }

        if (alerts.Mapping["ports"] is SpecScalar { Value: "off" })
        {
            alerts.Allow("ports");
            settings = settings with { PortInterval = null };
        }
        else if (alerts.Section("ports") is { } ports)
        {
            settings = settings with { PortInterval = ports.Duration("interval", TimeSpan.FromMilliseconds(100)) ?? settings.PortInterval };
            ports.RejectUnknownKeys();
        }

        return settings;
    }

    /// <summary><c>0</c>, <c>500MiB</c>, <c>2GiB</c>, <c>1GB</c>, <c>4096</c> (bytes).</summary>
    private static long? ByteSize(string text)
    {
        var units = new (string Suffix, long Factor)[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1), ("", 1) };
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var amount) && amount >= 0)
            {
                return (long)(amount * factor);
            }
        }

        return null;
    }

    private static string Resolve(string baseDirectory, string path) =>
        Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(baseDirectory, path));

    /// <summary><c>plugins.mounts: { NAME: /prefix | off }</c>: a prefix is an absolute path without a trailing slash.</summary>
    private static Dictionary<string, string> MountsOf(SpecReader plugins)
    {
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, prefix) in plugins.StringMap("mounts"))
        {
            if (prefix == "off" || (prefix.StartsWith('/') && !prefix.EndsWith('/') && !prefix.Contains("//", StringComparison.Ordinal) && !prefix.Any(char.IsWhiteSpace)))
            {
                mounts[name] = prefix;
            }
            else
            {
                plugins.Report(plugins.Mapping["mounts"]!, $"mount \"{prefix}\" for plugin {name}", "an absolute path such as /station (no trailing slash), or off");
            }
        }

        return mounts;
    }
}
