namespace PluginHost.Core.Plugins;

/// <summary>The result of one hot reload, with the figures the reload benchmark reports.</summary>
/// <param name="Latency">From the start of the reload until every unit uses the new version.</param>
/// <param name="UnloadGcCycles">GC cycles the old context took to be collected; null if it leaked.</param>
internal sealed record ReloadOutcome(
    string Plugin,
    bool Succeeded,
    string? FromVersion,
    string? ToVersion,
    TimeSpan Latency,
    int UnitsHandedOver,
    int UnitsRestarted,
    int? UnloadGcCycles,
    string? Error)
{
    public bool OldVersionCollected => UnloadGcCycles is not null;
}
