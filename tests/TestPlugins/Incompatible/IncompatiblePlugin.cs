using PluginHost.Contracts.Plugins;

namespace TestPlugins.Incompatible;

public sealed class IncompatiblePlugin : IPlugin
{
    public void Configure(object builder)
    {
    }
}
