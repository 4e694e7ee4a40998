using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Units;

namespace PluginHost.Contracts.Plugins;

/// <summary>What a plugin registers while the host loads it.</summary>
public interface IPluginBuilder
{
    PluginInfo Plugin { get; }

    /// <summary>Registers the driver for one unit kind (the <c>kind:</c> of a unit manifest).</summary>
    IPluginBuilder AddUnitKind(string kind, IUnitDriver driver);

    /// <summary>Registers an equipment driver that station batch workers can instantiate by name.</summary>
    IPluginBuilder AddEquipmentDriver(string name, Func<IEquipmentDriver> factory);
}
