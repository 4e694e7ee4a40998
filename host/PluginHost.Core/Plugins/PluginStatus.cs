namespace PluginHost.Core.Plugins;

/// <summary>What the host says about one plugin folder: loaded (which version) or why not.</summary>
internal sealed record PluginStatus(
    string Name,
    string SourceDirectory,
    string? Version,
    Version? ContractsVersion,
    IReadOnlyList<string> Kinds,
    PluginLoadState State,
    int Generation,
    string? Error,
    string? Remedy);

internal enum PluginLoadState
{
    Loaded,
    Failed,
}
