using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Manifests;

/// <summary>Reads and validates one unit manifest, reporting every problem at once.</summary>
internal static class UnitManifestReader
{
    public const string ApiVersion = "pluginhost/v1";

    public static (UnitManifest? Manifest, IReadOnlyList<ManifestProblem> Problems) Read(SpecNode? root, string file, IUnitKindResolver kinds)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        var problems = new List<SpecProblem>();
        if (root is null)
        {
            return (null, []);
        }

        var reader = SpecReader.ForNode(root, problems);
        if (reader is null)
        {
            return (null, problems.Select(ManifestProblem.From).ToArray());
        }

        ReadApiVersion(reader);
        var name = reader.RequiredString("name");
        if (UnitNames.Reserved.Contains(name))
        {
            reader.Report(reader.Mapping["name"]!, $"\"{name}\", a name the host keeps for its own log (DATA/logs/{name}.log)", "another name");
        }
        else if (name.Length > 0 && !UnitNames.IsValid(name))
        {
            reader.Report(reader.Mapping["name"]!, $"\"{name}\"", UnitNames.Expected);
        }

        var kind = reader.RequiredString("kind");
        var driver = kind.Length == 0 ? null : kinds.FindDriver(kind);
        if (kind.Length > 0 && driver is null)
        {
            var why = kinds.WhyMissing(kind);
            var hint = SpecReader.Suggest(kind, kinds.Kinds);
            var found = $"kind \"{kind}\", which no loaded plugin provides" + (why is null ? "" : $" ({why})") + (hint is null ? "" : $" (did you mean \"{hint}\"?)");
            reader.Report(reader.Mapping["kind"]!, found,
                kinds.Kinds.Count == 0 ? "a kind provided by a plugin (no plugin is loaded: check plugins.directories in host.yaml)" : "one of " + string.Join(", ", kinds.Kinds.Order(StringComparer.Ordinal)));
        }

        var description = reader.String("description");
        var enabled = reader.Bool("enabled") ?? true;
        var (autostart, optional) = ReadAutostart(reader);
        var reattach = reader.Bool("reattach") ?? true;
        var after = ReadAfter(reader);
        var ports = ReadPorts(reader);
        var env = ReadEnv(reader);
        // An absent (or empty) spec is an empty one where it would be, so that what the plugin finds
        // missing is reported at a position; a spec that is no mapping at all is reported once, here.
        var specNode = reader.Node("spec");
        var spec = specNode switch
        {
            null => new SpecMapping("spec", reader.Mapping.Location, []),
            SpecScalar { Value: null } => new SpecMapping("spec", specNode.Location, []),
            SpecMapping mapping => mapping,
            var other => Bad(reader, other),
        };

        var defaults = UnitDefaults.None;
        if (driver is not null && (specNode is null or SpecMapping or SpecScalar { Value: null }))
        {
            (defaults, var driverPorts) = AskDriver(driver, kind, spec, reader);
            ports = [.. ports, .. driverPorts.Where(p => ports.All(q => q.Name != p.Name))];
        }

        var portNames = ports.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var restart = SupervisionSectionReader.ReadRestart(reader, defaults.Restart ?? RestartSettings.Default);
        var health = SupervisionSectionReader.ReadHealth(reader, defaults.Health ?? HealthSettings.Default, portNames);
        var stop = SupervisionSectionReader.ReadStop(reader, defaults.Stop ?? StopSettings.Default);
        reader.RejectUnknownKeys();

        var result = problems.Select(ManifestProblem.From).ToArray();
        if (result.Length > 0)
        {
            return (null, result);
        }

        return (new UnitManifest
        {
            Name = name,
            Kind = kind,
            File = file,
            Description = description,
            Enabled = enabled,
            Autostart = autostart ?? defaults.Autostart ?? true,
            AutostartOptional = optional,
            After = after,
            Reattach = reattach,
            Restart = restart,
            Health = health,
            Stop = stop,
            Ports = ports,
            Env = env,
            Spec = spec,
            Fingerprint = Fingerprint.Of(root),
        }, result);
    }

    /// <summary><c>autostart: true | false | optional</c> (started with the host when it can be).</summary>
    private static (bool? Autostart, bool Optional) ReadAutostart(SpecReader reader)
    {
        switch (reader.Node("autostart"))
        {
            case null or SpecScalar { Value: null }:
                return (null, false);
            case SpecScalar { Quoted: false, Value: "optional" }:
                return (true, true);
            case SpecScalar { Quoted: false, Value: "true" or "True" or "TRUE" or "yes" or "on" }:
                return (true, false);
            case SpecScalar { Quoted: false, Value: "false" or "False" or "FALSE" or "no" or "off" }:
                return (false, false);
            case var other:
                reader.Report(other, other.Describe(), "true, false or optional (started with the host when its requirements are met)");
                return (null, false);
        }
    }

    private static SpecMapping Bad(SpecReader reader, SpecNode node)
    {
        reader.Report(node, node.Describe(), "a mapping (the plugin-owned spec section)");
        return SpecMapping.Empty("spec");
    }

    private static void ReadApiVersion(SpecReader reader)
    {
        var apiVersion = reader.RequiredString("apiVersion");
        if (apiVersion.Length > 0 && apiVersion != ApiVersion)
        {
            reader.Report(reader.Mapping["apiVersion"]!, $"\"{apiVersion}\"", $"\"{ApiVersion}\"");
        }
    }

    private static (UnitDefaults Defaults, IReadOnlyList<PortRequest> Ports) AskDriver(IUnitDriver driver, string kind, SpecMapping spec, SpecReader reader)
    {
        // A plugin's bug must surface as a problem in this manifest, not crash validation of all the others.
        try
        {
            var specProblems = driver.Validate(spec);
            foreach (var problem in specProblems)
            {
                reader.Report(problem);
            }

            return specProblems.Count > 0 ? (UnitDefaults.None, []) : (driver.Defaults(spec), driver.RequestPorts(spec));
        }
        catch (Exception ex)
        {
            reader.Report(spec, $"an error inside the \"{kind}\" plugin while validating ({ex.GetType().Name}: {ex.Message})",
                "a spec the plugin can validate; report this plugin bug to its authors");
            return (UnitDefaults.None, []);
        }
    }

    private static IReadOnlyList<string> ReadAfter(SpecReader reader)
    {
        var after = reader.StringList("after");
        if (reader.Mapping["after"] is SpecNode node)
        {
            foreach (var dependency in after.Where(d => !UnitNames.IsValid(d)))
            {
                reader.Report(node, $"\"{dependency}\"", "unit names (" + UnitNames.Expected + ")");
            }
        }

        return after;
    }

    private static IReadOnlyList<PortRequest> ReadPorts(SpecReader reader)
    {
        var node = reader.Node("ports");
        if (node is null or SpecScalar { Value: null })
        {
            return [];
        }

        if (node is not SpecMapping mapping)
        {
            reader.Report(node, node.Describe(), "a mapping of port names to a port number or {preferred, scan}");
            return [];
        }

        var ports = new List<PortRequest>();
        foreach (var entry in mapping.Entries)
        {
            if (!UnitNames.IsValid(entry.Key))
            {
                reader.Report(new SpecProblem(SpecReader.Join(mapping.Path, entry.Key), entry.KeyLocation, $"\"{entry.Key}\"", "a port name of letters, digits, '-', '_' or '.'"));
                continue;
            }

            var port = SupervisionSectionReader.ReadPort(entry, reader);
            if (port is not null)
            {
                ports.Add(port);
            }
        }

        return ports;
    }

    private static IReadOnlyDictionary<string, EnvValue> ReadEnv(SpecReader reader)
    {
        var env = new Dictionary<string, EnvValue>(StringComparer.Ordinal);
        var node = reader.Node("env");
        if (node is null or SpecScalar { Value: null })
        {
            return env;
        }

        if (node is not SpecMapping mapping)
        {
            reader.Report(node, node.Describe(), "a mapping of variable names to values");
            return env;
        }

        foreach (var entry in mapping.Entries)
        {
            if (entry.Key.Length == 0 || entry.Key.Contains('=', StringComparison.Ordinal) || entry.Key.Contains('\0', StringComparison.Ordinal))
            {
                reader.Report(new SpecProblem(SpecReader.Join(mapping.Path, entry.Key), entry.KeyLocation, $"\"{entry.Key}\"", "a variable name without '='"));
                continue;
            }

            switch (entry.Value)
            {
                case SpecScalar scalar:
                    env[entry.Key] = new EnvValue(scalar.Value ?? "", Public: false);
                    break;
                case SpecMapping valueMapping:
                    var section = SpecReader.ForNode(valueMapping, [])!;
                    var value = section.RequiredString("value");
                    var isPublic = section.Bool("public") ?? false;
                    section.RejectUnknownKeys();
                    foreach (var problem in section.Problems)
                    {
                        reader.Report(problem);
                    }

                    env[entry.Key] = new EnvValue(value, isPublic);
                    break;
                default:
                    reader.Report(entry.Value, entry.Value.Describe(), "a value, or {value, public}");
                    break;
            }
        }

        return env;
    }
}
