using PluginHost.Contracts.Plugins;

namespace PluginHost.Plugins.PythonServer;

/// <summary>The <c>python-server</c> unit kind (seed 001, "Python Server Control").</summary>
public sealed class PythonServerPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddUnitKind(PythonServerDriver.Kind, new PythonServerDriver());
        builder.AddDashboardPanel();
    }
}
