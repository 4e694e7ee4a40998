using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Formats;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;
using PluginHost.Contracts.Web;

namespace PluginHost.Core.Plugins;

/// <summary>Collects what a plugin registers during <see cref="IPlugin.Configure"/>.</summary>
internal sealed class PluginBuilder(PluginInfo plugin) : IPluginBuilder
{
    private readonly Dictionary<string, IUnitDriver> _kinds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IEquipmentDriver>> _equipment = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IUnitFormat> _formats = new(StringComparer.Ordinal);

    public PluginInfo Plugin { get; } = plugin;

    public IReadOnlyDictionary<string, IUnitDriver> Kinds => _kinds;

    public IReadOnlyDictionary<string, Func<IEquipmentDriver>> Equipment => _equipment;

    public IReadOnlyDictionary<string, IUnitFormat> Formats => _formats;

    /// <summary>The module of the dashboard panel the plugin added, or null.</summary>
    public string? PanelModule { get; private set; }

    public IPluginRoutes? Routes { get; private set; }

    public IPluginBuilder AddDashboardPanel(string module = "panel.js")
    {
        ArgumentException.ThrowIfNullOrEmpty(module);
        if (PanelModule is not null)
        {
            throw new InvalidOperationException("a dashboard panel is added twice");
        }

        PanelModule = module.TrimStart('/');
        return this;
    }

    public IPluginBuilder AddRoutes(IPluginRoutes routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        if (Routes is not null)
        {
            throw new InvalidOperationException("routes are added twice: one IPluginRoutes serves all of a plugin's paths");
        }

        Routes = routes;
        return this;
    }

    public IPluginBuilder AddUnitFormat(IUnitFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentException.ThrowIfNullOrEmpty(format.Name);
        if (!_formats.TryAdd(format.Name, format))
        {
            throw new InvalidOperationException($"unit format \"{format.Name}\" is registered twice");
        }

        return this;
    }

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
