namespace PluginHost.Contracts.Plugins;

/// <summary>Identity of a loaded plugin, from its <c>plugin.yaml</c>.</summary>
/// <param name="Directory">The plugin's own (shadow-copied) folder: read its files from here.</param>
public sealed record PluginInfo(string Name, string Version, Version ContractsVersion, string Directory);
