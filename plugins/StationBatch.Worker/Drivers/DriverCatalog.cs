using McMaster.NETCore.Plugins;
using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;
using PluginHost.Contracts.Web;
using YamlDotNet.RepresentationModel;

namespace PluginHost.Station.Worker.Drivers;

/// <summary>
/// The equipment drivers a batch needs, loaded with McMaster.NETCore.Plugins into collectible load
/// contexts (the contracts shared with the worker, every other dependency private to the driver).
/// A driver plugin is a folder under the drivers root with a <c>plugin.yaml</c> (name, assembly), whose
/// <see cref="IPlugin"/> registers equipment drivers by name; only the plugins the bindings name are loaded.
/// Assemblies are read into memory (McMaster's <c>LoadInMemory</c>): a rebuild may overwrite the files of
/// a loaded driver without touching what runs, and the next execution takes the new build up
/// (<see cref="DriverPlugins"/>). Unloading closes every instrument still open first.
/// </summary>
internal sealed class DriverCatalog : IAsyncDisposable
{
    private readonly List<(PluginLoader Loader, IPlugin Plugin, WeakReference Context)> _loaded = [];
    private readonly Dictionary<string, Func<IEquipmentDriver>> _factories = new(StringComparer.Ordinal);
    private readonly HashSet<Instrument> _open = [];
    private readonly List<string> _described = [];

    private DriverCatalog()
    {
    }

    /// <summary>Loads every driver plugin under <paramref name="root"/> that provides a driver the bindings name.</summary>
    /// <exception cref="WorkerException">DRIVER_NOT_FOUND or DRIVER_LOAD_FAILED, naming the slot.</exception>
    public static DriverCatalog Load(string root, IEnumerable<HardwareBinding> bindings)
    {
        var catalog = new DriverCatalog();
        try
        {
            var wanted = bindings.ToList();
            var byName = FindPluginFolders(root);
            foreach (var binding in wanted)
            {
                if (catalog._factories.ContainsKey(binding.Driver))
                {
                    continue;
                }

                if (!byName.TryGetValue(binding.Driver, out var folder))
                {
                    throw new WorkerException("DRIVER_NOT_FOUND",
                        $"slot {binding.Slot}: no equipment driver \"{binding.Driver}\" under {root} (found: {(byName.Count == 0 ? "none" : string.Join(", ", byName.Keys.Order()))})");
                }

                catalog.LoadPlugin(folder, binding);
                if (!catalog._factories.ContainsKey(binding.Driver))
                {
                    throw new WorkerException("DRIVER_NOT_FOUND", $"slot {binding.Slot}: the plugin in {folder} does not register a driver named \"{binding.Driver}\"");
                }
            }

            return catalog;
        }
        catch
        {
            catalog.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>The driver plugins loaded, by name and version, for the record (<c>simulated 1.0.0, scpi 1.0.0</c>).</summary>
    public string Describe() => string.Join(", ", _described);

    /// <summary>A new instance of the binding's driver, as the slot's <see cref="Instrument"/> (not connected yet).</summary>
    public Instrument Open(HardwareBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var instrument = new Instrument(binding, _factories[binding.Driver](), Closed);
        lock (_open)
        {
            _open.Add(instrument);
        }

        return instrument;
    }

    /// <summary>
    /// What the files under <paramref name="root"/> hold now (names and contents: a copy keeps a file's
    /// time, and a rebuild may keep its size), so that a change means a driver was rebuilt or installed.
    /// A drivers folder is a few hundred KB: hashing it before a run costs about a millisecond.
    /// </summary>
    public static string Fingerprint(string root)
    {
        if (!Directory.Exists(root))
        {
            return "";
        }

        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\0"));
            try
            {
                hash.AppendData(File.ReadAllBytes(file));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Being written now (the next look sees it whole, and differs), or unreadable (its load will say so).
            }
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Closes what is open, unloads every driver plugin, and says whether their load contexts were collected (no leak).</summary>
    public async Task<bool> UnloadAsync()
    {
        var contexts = _loaded.Select(l => l.Context).ToList();
        await DisposeAsync().ConfigureAwait(false);
        for (var i = 0; i < 20 && contexts.Any(c => c.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Yield();
        }

        return contexts.All(c => !c.IsAlive);
    }

    private void Closed(Instrument instrument)
    {
        lock (_open)
        {
            _open.Remove(instrument);
        }
    }

    /// <summary>Driver name → plugin folder: a folder declares one name per driver it registers, in plugin.yaml's <c>drivers: [...]</c>.</summary>
    private static Dictionary<string, string> FindPluginFolders(string root)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(root))
        {
            return found;
        }

        foreach (var folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            if (ReadDescriptor(folder) is { } descriptor)
            {
                foreach (var name in descriptor.Drivers)
                {
                    found.TryAdd(name, folder);
                }
            }
        }

        return found;
    }

    private void LoadPlugin(string folder, HardwareBinding binding)
    {
        var descriptor = ReadDescriptor(folder)!;
        var assembly = Path.Combine(folder, descriptor.Assembly);
        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(assembly, isUnloadable: true,
                sharedTypes: [typeof(IPlugin), typeof(IEquipmentDriver), typeof(IUnitDriver)], config => config.LoadInMemory = true);
            var main = loader.LoadDefaultAssembly();
            var type = main.GetExportedTypes()
                .SingleOrDefault(t => typeof(IPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                ?? throw new WorkerException("DRIVER_LOAD_FAILED", $"slot {binding.Slot}: {assembly} has no public IPlugin class");
            var plugin = (IPlugin)Activator.CreateInstance(type)!;
            _described.Add($"{descriptor.Name} {descriptor.Version}");
            _loaded.Add((loader, plugin, new WeakReference(System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(main))));
            plugin.Configure(new Registrations(this, new PluginInfo(descriptor.Name, descriptor.Version, PluginHost.Contracts.ContractsVersion.Current, folder)));
        }
        catch (Exception ex) when (ex is not (WorkerException or OutOfMemoryException))
        {
            throw new WorkerException("DRIVER_LOAD_FAILED", $"slot {binding.Slot}: driver plugin {folder} failed to load: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    private static DriverDescriptor? ReadDescriptor(string folder)
    {
        var path = Path.Combine(folder, "plugin.yaml");
        if (!File.Exists(path))
        {
            return null;
        }

        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        if (stream.Documents.FirstOrDefault()?.RootNode is not YamlMappingNode root)
        {
            return null;
        }

        string? Scalar(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value : null;
        var drivers = root.Children.TryGetValue(new YamlScalarNode("drivers"), out var d) && d is YamlSequenceNode list
            ? list.OfType<YamlScalarNode>().Select(n => n.Value ?? "").ToArray()
            : [];
        return Scalar("assembly") is { } assembly && drivers.Length > 0
            ? new DriverDescriptor(Scalar("name") ?? Path.GetFileName(folder), Scalar("version") ?? "0.0.0", assembly, drivers)
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        Instrument[] open;
        lock (_open)
        {
            open = [.. _open];
        }

        foreach (var instrument in open)
        {
            try
            {
                await instrument.DisposeAsync().ConfigureAwait(false); // its socket closed before its code goes
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"slot {instrument.Slot} did not close cleanly: {ex.Message}");
            }
        }

        foreach (var (loader, plugin, _) in _loaded)
        {
            try
            {
                await plugin.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"driver plugin threw while being disposed: {ex.Message}");
            }

            loader.Dispose();
        }

        _loaded.Clear();
        _factories.Clear();
    }

    private sealed record DriverDescriptor(string Name, string Version, string Assembly, IReadOnlyList<string> Drivers);

    /// <summary>What a driver plugin may register inside a worker: equipment drivers only.</summary>
    private sealed class Registrations(DriverCatalog catalog, PluginInfo plugin) : IPluginBuilder
    {
        public PluginInfo Plugin { get; } = plugin;

        public IPluginBuilder AddEquipmentDriver(string name, Func<IEquipmentDriver> factory)
        {
            catalog._factories[name] = factory;
            return this;
        }

        public IPluginBuilder AddUnitKind(string kind, IUnitDriver driver) => this;

        public IPluginBuilder AddDashboardPanel(string module = "panel.js") => this;

        public IPluginBuilder AddRoutes(IPluginRoutes routes) => this;
    }
}
