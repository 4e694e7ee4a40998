using System.Globalization;
using PluginHost.Contracts.Specs;
using PluginHost.Core.Manifests;

namespace PluginHost.Core.Plugins;

internal static class PluginDescriptorReader
{
    public static (PluginDescriptor? Descriptor, IReadOnlyList<ManifestProblem> Problems) Read(string pluginDirectory)
    {
        var path = Path.Combine(pluginDirectory, PluginDescriptor.FileName);
        var display = ManifestPaths.Display(path);
        if (!File.Exists(path))
        {
            return (null, [ManifestProblem.InFile(display, "no plugin.yaml", "a plugin.yaml describing the plugin (name, version, contracts, assembly, kinds)")]);
        }

        var (root, parseProblems) = YamlDocumentReader.ReadFile(path, display);
        if (root is null || parseProblems.Count > 0)
        {
            return (null, parseProblems);
        }

        var problems = new List<SpecProblem>();
        var reader = SpecReader.ForNode(root, problems);
        if (reader is null)
        {
            return (null, problems.Select(ManifestProblem.From).ToArray());
        }

        var name = reader.RequiredString("name");
        if (name.Length > 0 && !UnitNames.IsValid(name))
        {
            reader.Report(reader.Mapping["name"]!, $"\"{name}\"", UnitNames.Expected);
        }

        var version = reader.RequiredString("version");
        var contractsText = reader.RequiredString("contracts");
        Version? contracts = null;
        if (contractsText.Length > 0 && !(Version.TryParse(contractsText, out contracts) || TryParseMajor(contractsText, out contracts)))
        {
            reader.Report(reader.Mapping["contracts"]!, $"\"{contractsText}\"", "the contracts version the plugin was built against, e.g. \"1.0\"");
        }

        var assembly = reader.RequiredString("assembly");
        if (assembly.Length > 0 && (assembly.Contains('/', StringComparison.Ordinal) || assembly.Contains('\\', StringComparison.Ordinal) || !assembly.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)))
        {
            reader.Report(reader.Mapping["assembly"]!, $"\"{assembly}\"", "the file name of the plugin's main .dll in this folder");
        }

        var kinds = reader.StringList("kinds");
        // The key the station worker reads in a driver plugin's plugin.yaml: one file, one spelling.
        var equipment = reader.StringList("drivers");
        if (kinds.Count == 0 && equipment.Count == 0)
        {
            reader.ReportMissing("kinds", "the unit kinds (or equipment drivers) the plugin provides");
        }

        var description = reader.String("description");
        reader.RejectUnknownKeys();
        return problems.Count > 0 || contracts is null
            ? (null, problems.Select(ManifestProblem.From).ToArray())
            : (new PluginDescriptor(name, version, contracts, assembly, kinds, equipment, description), []);
    }

    private static bool TryParseMajor(string text, out Version? version)
    {
        version = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? new Version(major, 0) : null;
        return version is not null;
    }
}
