using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Plugins;

/// <summary>Collects what a plugin registers during <see cref="IPlugin.Configure"/>.</summary>
internal sealed class PluginBuilder(PluginInfo plugin) : IPluginBuilder
{
    private readonly Dictionary<string, IUnitDriver> _kinds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IEquipmentDriver>> _equipment = new(StringComparer.Ordinal);

    public PluginInfo Plugin { get; } = plugin;

    public IReadOnlyDictionary<string, IUnitDriver> Kinds => _kinds;

    public IReadOnlyDictionary<string, Func<IEquipmentDriver>> Equipment => _equipment;

    public IPluginBuilder AddUnitKind(string kind, IUnitDriver driver)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(driver);
        if (!_kinds.TryAdd(kind, driver))
        {
            throw new InvalidOperationException($"unit kind \"{kind}\" is registered twice");
        }

        return this;
    }

    public IPluginBuilder AddEquipmentDriver(string name, Func<IEquipmentDriver> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_equipment.TryAdd(name, factory))
        {
            throw new InvalidOperationException($"equipment driver \"{name}\" is registered twice");
        }

        return this;
    }
}
