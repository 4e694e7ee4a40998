using PluginHost.Contracts.Plugins;

namespace PluginHost.Drivers.Modbus;

/// <summary>Registers <c>modbus-tcp</c>.</summary>
public sealed class ModbusDriversPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddEquipmentDriver("modbus-tcp", () => new ModbusTcpDriver());
    }
}
