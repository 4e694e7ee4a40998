namespace PluginHost.Core.Events;

/// <summary>Kinds of the events the host itself publishes.</summary>
internal static class HostEventKinds
{
    public const string PluginLoaded = "plugin_loaded";
    public const string PluginLoadFailed = "plugin_load_failed";
    public const string PluginReloaded = "plugin_reloaded";
    public const string PluginReloadFailed = "plugin_reload_failed";
    public const string PluginUnloaded = "plugin_unloaded";
    public const string PluginUnloadLeak = "plugin_unload_leak";
    public const string UnitHandedOver = "unit_handed_over";
    public const string ManifestApplied = "manifest_applied";
    public const string ManifestRejected = "manifest_rejected";
    public const string ManifestApplyFailed = "manifest_apply_failed";
}
