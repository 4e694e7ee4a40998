using PluginHost.Contracts.Formats;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>Units to export, as the host would hand them to a format.</summary>
internal static class Exports
{
    /// <summary>A launchd-service unit from its spec, with the manifest-level settings the kind's defaults give it.</summary>
    public static ExportedUnit Launchd(string name, string specYaml, string manifestPath, bool enabled = true, IReadOnlyList<string>? after = null)
    {
        var spec = SpecYaml.Parse(specYaml, manifestPath);
        var defaults = new LaunchdDriver().Defaults(spec);
        return new ExportedUnit(name, LaunchdDriver.Kind, manifestPath, Plan: null, spec)
        {
            Enabled = enabled,
            Autostart = defaults.Autostart ?? true,
            Restart = defaults.Restart!,
            Stop = defaults.Stop!,
            After = after ?? [],
        };
    }

    /// <summary>The spec section of an imported manifest's YAML.</summary>
    public static SpecMapping SpecOf(string manifestYaml, string file)
    {
        var lines = manifestYaml.Split('\n');
        var start = Array.FindIndex(lines, l => l == "spec:");
        return SpecYaml.Parse(string.Join('\n', lines.Skip(start + 1).Select(l => l.StartsWith("  ", StringComparison.Ordinal) ? l[2..] : l)), file);
    }

    public static ExportedUnit FromImport(ImportedManifest manifest, string file)
    {
        var spec = SpecOf(manifest.Yaml, file);
        var defaults = new LaunchdDriver().Defaults(spec);
        return new ExportedUnit(manifest.UnitName, LaunchdDriver.Kind, file, Plan: null, spec)
        {
            Enabled = !manifest.Yaml.Contains("\nenabled: false", StringComparison.Ordinal),
            Autostart = defaults.Autostart ?? true,
            Restart = defaults.Restart!,
            Stop = defaults.Stop!,
        };
    }

    public static ExportedUnit Process(string name, LaunchPlan plan, string manifestPath) => new(name, "process", manifestPath, plan, SpecMapping.Empty("spec"))
    {
        LogPath = "/var/tmp/pluginhost-data/logs/" + name + ".log",
    };
}
