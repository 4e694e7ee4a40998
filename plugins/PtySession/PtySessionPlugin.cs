using PluginHost.Contracts.Plugins;

namespace PluginHost.Plugins.PtySession;

/// <summary>The <c>pty-session</c> unit kind (seed 003, the pty stability spike).</summary>
public sealed class PtySessionPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddUnitKind(PtySessionDriver.Kind, new PtySessionDriver());
        builder.AddDashboardPanel();
    }
}
