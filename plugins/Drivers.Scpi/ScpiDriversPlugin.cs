using PluginHost.Contracts.Plugins;

namespace PluginHost.Drivers.Scpi;

/// <summary>Registers <c>scpi-tcp</c>.</summary>
public sealed class ScpiDriversPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddEquipmentDriver("scpi-tcp", () => new ScpiTcpDriver());
    }
}
