using PluginHost.Contracts.Plugins;
using PluginHost.Plugins.Shimmy.Accel;
using PluginHost.Plugins.Shimmy.Models;

namespace PluginHost.Plugins.Shimmy;

/// <summary>The <c>shimmy</c> unit kind (seed 000, the Shimmy sidecar checklist).</summary>
public sealed class ShimmyPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddUnitKind(ShimmyDriver.Kind, new ShimmyDriver(new SystemAccelProbes(), new ModelDownloader()));
        builder.AddDashboardPanel();
    }
}
