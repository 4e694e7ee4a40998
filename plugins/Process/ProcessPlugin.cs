using PluginHost.Contracts.Plugins;

namespace PluginHost.Plugins.Process;

/// <summary>The <c>process</c> unit kind: what a supervisord <c>[program:x]</c> is.</summary>
public sealed class ProcessPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddUnitKind(ProcessDriver.Kind, new ProcessDriver());
    }
}
