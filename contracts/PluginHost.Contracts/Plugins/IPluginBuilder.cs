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

    /// <summary>
    /// A dashboard panel for the units of this plugin's kinds (since 1.5): static files embedded in
    /// the plugin assembly with logical names under <c>dashboard/</c>
    /// (<c>&lt;EmbeddedResource Include="Dashboard/**" LogicalName="dashboard/%(RecursiveDir)%(Filename)%(Extension)" /&gt;</c>),
    /// served at <c>/plugins/NAME/ui/…</c>; <paramref name="module"/> is the ES module the dashboard
    /// imports (docs/dashboard.md, "Panels").
    /// </summary>
    IPluginBuilder AddDashboardPanel(string module = "panel.js");

    /// <summary>HTTP routes and WebSocket endpoints under <c>/plugins/NAME/</c> (since 1.5).</summary>
    IPluginBuilder AddRoutes(Web.IPluginRoutes routes);

    /// <summary>Another supervisor's file format for <c>pluginhost import</c> / <c>export</c> (since 1.7).</summary>
    IPluginBuilder AddUnitFormat(Formats.IUnitFormat format) => throw new NotSupportedException("this host does not take unit formats (contracts 1.7)");
}
