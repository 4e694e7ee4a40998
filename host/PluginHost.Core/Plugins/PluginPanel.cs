using System.Reflection;

namespace PluginHost.Core.Plugins;

/// <summary>
/// A plugin's dashboard panel: the files it embeds under <c>dashboard/</c>, copied into host-owned
/// arrays when the plugin loads (serving them never touches the plugin's assembly, so the panel does
/// not keep an unloaded version alive), and the ES module the dashboard imports.
/// </summary>
internal sealed record PluginPanel(string Module, IReadOnlyDictionary<string, byte[]> Files)
{
    public const string ResourcePrefix = "dashboard/";

    /// <exception cref="PluginLoadException">The module is not among the embedded files.</exception>
    public static PluginPanel Read(Assembly assembly, string module, PluginDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[ResourcePrefix.Length..].Replace('\\', '/')] = copy.ToArray();
        }

        return files.ContainsKey(module) ? new PluginPanel(module, files) : throw new PluginLoadException(PluginLoadFailure.PanelMissing,
            $"plugin \"{descriptor.Name}\" adds a dashboard panel {module}, but its assembly embeds no resource {ResourcePrefix}{module} (it has: {(files.Count == 0 ? "none" : string.Join(", ", files.Keys))})",
            "Embed the panel's files: <EmbeddedResource Include=\"Dashboard/**\" LogicalName=\"dashboard/%(RecursiveDir)%(Filename)%(Extension)\" /> in the plugin's project (docs/dashboard.md).");
    }
}
