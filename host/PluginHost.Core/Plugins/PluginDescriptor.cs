namespace PluginHost.Core.Plugins;

/// <summary>A plugin's <c>plugin.yaml</c>: what it is, before any of its code is loaded.</summary>
internal sealed record PluginDescriptor(
    string Name,
    string Version,
    Version ContractsVersion,
    string AssemblyFile,
    IReadOnlyList<string> Kinds,
    IReadOnlyList<string> EquipmentDrivers,
    string? Description)
{
    public const string FileName = "plugin.yaml";
}
