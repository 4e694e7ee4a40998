using System.Reflection;
using System.Runtime.CompilerServices;
using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Formats;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Plugins;

/// <summary>
/// One loaded version of a plugin. <see cref="Release"/> drops every reference this object holds
/// into the plugin's load context, so that holding a stale <see cref="LoadedPlugin"/> (in a status
/// snapshot, a test) can never keep an unloaded plugin alive.
/// </summary>
internal sealed class LoadedPlugin
{
    private IPlugin? _instance;
    private PluginLoadContext? _context;

    public LoadedPlugin(PluginDescriptor descriptor, string sourceDirectory, string shadowDirectory, int generation,
        PluginLoadContext context, IPlugin instance, PluginBuilder registrations, string contentStamp, TimeSpan loadTime, PluginPanel? panel)
    {
        Descriptor = descriptor;
        SourceDirectory = sourceDirectory;
        ShadowDirectory = shadowDirectory;
        Generation = generation;
        _context = context;
        _instance = instance;
        Drivers = registrations.Kinds;
        Equipment = registrations.Equipment;
        Formats = registrations.Formats;
        Panel = panel;
        RouteGate = registrations.Routes is { } routes ? new PluginRouteGate(routes) : null;
        ContentStamp = contentStamp;
        LoadTime = loadTime;
    }

    public PluginDescriptor Descriptor { get; }

    public string Name => Descriptor.Name;

    public string SourceDirectory { get; }

    public string ShadowDirectory { get; }

    /// <summary>Counts loads of this plugin in this host: 1 for the first, +1 per reload.</summary>
    public int Generation { get; }

    public IReadOnlyDictionary<string, IUnitDriver> Drivers { get; private set; }

    public IReadOnlyDictionary<string, Func<IEquipmentDriver>> Equipment { get; private set; }

    /// <summary>Other supervisors' file formats the plugin reads or writes (import / export), by name.</summary>
    public IReadOnlyDictionary<string, IUnitFormat> Formats { get; private set; }

    /// <summary>The plugin's dashboard panel (host-owned copies of its files), or null.</summary>
    public PluginPanel? Panel { get; }

    /// <summary>The door to the plugin's routes, or null when it serves none.</summary>
    public PluginRouteGate? RouteGate { get; }

    public string ContentStamp { get; }

    public TimeSpan LoadTime { get; }

    public required DateTimeOffset LoadedAt { get; init; }

    /// <summary>Takes the plugin instance out (to dispose it) and drops the registrations.</summary>
    public IPlugin? TakeInstance()
    {
        var instance = _instance;
        _instance = null;
        Drivers = new Dictionary<string, IUnitDriver>();
        Equipment = new Dictionary<string, Func<IEquipmentDriver>>();
        Formats = new Dictionary<string, IUnitFormat>();
        return instance;
    }

    /// <summary>Drops the last reference to the load context and unloads it.</summary>
    /// <returns>A weak reference to the unloading context, to verify that it is collected.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public WeakReference Unload()
    {
        var context = _context ?? throw new InvalidOperationException($"plugin {Name} generation {Generation} was already unloaded");
        _context = null;
        FrameworkTypeCaches.Clear([.. context.Assemblies.SelectMany(TypesOf)]);
        var weak = new WeakReference(context, trackResurrection: false);
        context.Unload();
        return weak;
    }

    private static IEnumerable<Type> TypesOf(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }
}
