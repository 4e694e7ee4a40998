using PluginHost.Contracts.Plugins;
using PluginHost.Plugins.Launchd.Formats;

namespace PluginHost.Plugins.Launchd;

/// <summary>The <c>launchd-service</c> unit kind and the <c>plist</c> and <c>systemd</c> unit formats (docs/launchd.md).</summary>
public sealed class LaunchdPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddUnitKind(LaunchdDriver.Kind, new LaunchdDriver())
            .AddUnitFormat(new PlistFormat())
            .AddUnitFormat(new SystemdFormat());
    }
}
