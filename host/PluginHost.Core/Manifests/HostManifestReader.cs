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

        reader.RejectUnknownKeys();
        return problems.Count > 0 ? (null, problems.Select(ManifestProblem.From).ToArray()) : (manifest, []);
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
