using PluginHost.Contracts.Plugins;

namespace PluginHost.Drivers.Simulated;

/// <summary>Registers <c>sim-dmm</c> and <c>sim-psu</c>.</summary>
public sealed class SimulatedDriversPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddEquipmentDriver("sim-dmm", () => new SimulatedInstrument(SimulatedInstrument.Model.Dmm));
        builder.AddEquipmentDriver("sim-psu", () => new SimulatedInstrument(SimulatedInstrument.Model.PowerSupply));
    }
}
