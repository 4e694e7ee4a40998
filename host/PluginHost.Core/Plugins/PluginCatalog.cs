using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Manifests;

namespace PluginHost.Core.Plugins;

/// <summary>
/// The loaded plugins and the unit kinds they provide. Loads, hot-reloads (new version beside the
/// old, units handed over, old version unloaded and its collection verified) and reports every
/// outcome as an event. A failed load or reload never disturbs what is running.
/// </summary>
internal sealed partial class PluginCatalog : IUnitKindResolver, IAsyncDisposable
{
    private readonly PluginLoader _loader;
    private readonly EventBus _bus;
    private readonly TimeProvider _time;
    private readonly EventPublisher _events;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Snapshot _snapshot = Snapshot.Empty;
    private ISupervisedUnits? _units;
    private int _generation;

    public PluginCatalog(string shadowRoot, EventBus bus, TimeProvider time, ILogger<PluginCatalog> logger)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _loader = new PluginLoader(shadowRoot, time);
        _bus = bus;
        _time = time;
        _events = new EventPublisher(bus, time, unit: null, plugin: null);
        _logger = logger;
    }

    public IReadOnlyCollection<string> Kinds => Volatile.Read(ref _snapshot).Kinds.Keys.ToArray();

    /// <summary>Supervision registers here so that reloads hand its units over.</summary>
    public void AttachUnits(ISupervisedUnits units) => _units = units;

    public IUnitDriver? FindDriver(string kind) =>
        Volatile.Read(ref _snapshot).Kinds.TryGetValue(kind, out var plugin) && plugin.Drivers.TryGetValue(kind, out var driver) ? driver : null;

    /// <summary>The plugin currently providing <paramref name="kind"/>.</summary>
    public LoadedPlugin? PluginOfKind(string kind) => Volatile.Read(ref _snapshot).Kinds.GetValueOrDefault(kind);

    public LoadedPlugin? Find(string name) => Volatile.Read(ref _snapshot).Plugins.GetValueOrDefault(name);

    public string? WhyMissing(string kind)
    {
        var failed = Volatile.Read(ref _snapshot).Failures.Values.FirstOrDefault(f => f.Kinds.Contains(kind, StringComparer.Ordinal));
        return failed is null ? null : $"plugin \"{failed.Name}\" that provides it failed to load: {failed.Error.Message}";
    }

    public IReadOnlyList<PluginStatus> List()
    {
        var snapshot = Volatile.Read(ref _snapshot);
        var loaded = snapshot.Plugins.Values.Select(p =>
        {
            snapshot.Failures.TryGetValue(p.SourceDirectory, out var reloadFailure);
            return new PluginStatus(p.Name, p.SourceDirectory, p.Descriptor.Version, p.Descriptor.ContractsVersion, [.. p.Drivers.Keys.Order()],
                PluginLoadState.Loaded, p.Generation, reloadFailure is null ? null : "last reload failed: " + reloadFailure.Error.Message, reloadFailure?.Error.Remedy);
        });
        var failed = snapshot.Failures.Values
            .Where(f => !snapshot.Plugins.Values.Any(p => p.SourceDirectory == f.SourceDirectory))
            .Select(f => new PluginStatus(f.Name, f.SourceDirectory, f.Version, f.ContractsVersion, f.Kinds, PluginLoadState.Failed, 0, f.Error.Message, f.Error.Remedy));
        return [.. loaded.Concat(failed).OrderBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>Loads every plugin folder (a sub-folder holding a plugin.yaml) under the given roots.</summary>
    public async Task LoadDirectoriesAsync(IEnumerable<string> roots, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(roots);
        foreach (var folder in roots.SelectMany(FindPluginFolders).Distinct(StringComparer.Ordinal))
        {
            await LoadOrReloadAsync(folder, cancellationToken).ConfigureAwait(false);
        }
    }

    public static IEnumerable<string> FindPluginFolders(string root)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        return Directory.EnumerateDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, PluginDescriptor.FileName)))
            .Select(Path.GetFullPath)
            .Order(StringComparer.Ordinal);
    }

    /// <summary>Reloads the plugin called <paramref name="name"/> from the folder it was loaded from.</summary>
    public Task<ReloadOutcome> ReloadAsync(string name, CancellationToken cancellationToken)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        var folder = snapshot.Plugins.TryGetValue(name, out var plugin)
            ? plugin.SourceDirectory
            : snapshot.Failures.Values.FirstOrDefault(f => f.Name == name)?.SourceDirectory;
        return folder is null
            ? Task.FromResult(new ReloadOutcome(name, false, null, null, TimeSpan.Zero, 0, 0, null, $"no plugin named \"{name}\" is known"))
            : LoadOrReloadAsync(folder, cancellationToken);
    }

    /// <summary>Loads the plugin in <paramref name="sourceDirectory"/>, or hot-reloads it when a version from that folder runs.</summary>
    public async Task<ReloadOutcome> LoadOrReloadAsync(string sourceDirectory, CancellationToken cancellationToken)
    {
        sourceDirectory = Path.GetFullPath(sourceDirectory);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var old = Volatile.Read(ref _snapshot).Plugins.Values.FirstOrDefault(p => p.SourceDirectory == sourceDirectory);
            return await SwapAsync(sourceDirectory, old, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>True when the folder's content differs from the version loaded from it (or none is).</summary>
    public bool HasChanged(string sourceDirectory)
    {
        var loaded = Volatile.Read(ref _snapshot).Plugins.Values.FirstOrDefault(p => p.SourceDirectory == Path.GetFullPath(sourceDirectory));
        try
        {
            return loaded is null || loaded.ContentStamp != ContentStamp.Of(sourceDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private async Task<ReloadOutcome> SwapAsync(string sourceDirectory, LoadedPlugin? old, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        LoadedPlugin loaded;
        try
        {
            loaded = Load(sourceDirectory);
        }
        catch (PluginLoadException ex)
        {
            return Failed(sourceDirectory, old, ex);
        }

        if (Conflict(loaded, old) is { } conflict)
        {
            await ReleaseAsync(loaded, reason: "rejected").ConfigureAwait(false);
            return Failed(sourceDirectory, old, new PluginLoadException(PluginLoadFailure.KindConflict, $"plugin in {sourceDirectory}: {conflict}",
                "Give each plugin a unique name and each unit kind a single plugin."));
        }

        var handedOver = 0;
        var restarted = 0;
        var units = old is null || _units is null ? [] : _units.UnitsOfKinds(old.Drivers.Keys.ToHashSet(StringComparer.Ordinal));
        var lost = units.Where(u => !loaded.Drivers.ContainsKey(u.Kind)).Select(u => $"{u.Name} ({u.Kind})").ToArray();
        if (lost.Length > 0)
        {
            await ReleaseAsync(loaded, reason: "rejected").ConfigureAwait(false);
            return Failed(sourceDirectory, old, new PluginLoadException(PluginLoadFailure.KindsMismatch,
                $"plugin \"{loaded.Name}\" {loaded.Descriptor.Version} no longer provides kinds used by running units: {string.Join(", ", lost)}",
                "Keep those kinds in the new version, or remove those units' manifests first."));
        }

        foreach (var unit in units)
        {
            if (await HandOverAsync(unit, loaded, cancellationToken).ConfigureAwait(false))
            {
                handedOver++;
            }
            else
            {
                restarted++;
            }
        }

        Publish(loaded, old);
        var latency = _time.GetElapsedTime(started);
        if (old is null)
        {
            _events.Publish(HostEventKinds.PluginLoaded, new JsonObject
            {
                ["plugin"] = loaded.Name,
                ["version"] = loaded.Descriptor.Version,
                ["kinds"] = new JsonArray([.. loaded.Drivers.Keys.Order().Select(k => (JsonNode)k)]),
            });
            LogLoaded(loaded.Name, loaded.Descriptor.Version, string.Join(", ", loaded.Drivers.Keys.Order()), loaded.LoadTime.TotalMilliseconds);
            return new ReloadOutcome(loaded.Name, true, null, loaded.Descriptor.Version, latency, 0, 0, null, null);
        }

        _events.Publish(HostEventKinds.PluginReloaded, new JsonObject
        {
            ["plugin"] = loaded.Name,
            ["from"] = old.Descriptor.Version,
            ["to"] = loaded.Descriptor.Version,
            ["latencyMs"] = Math.Round(latency.TotalMilliseconds, 3),
            ["unitsHandedOver"] = handedOver,
            ["unitsRestarted"] = restarted,
        });
        LogReloaded(loaded.Name, old.Descriptor.Version, loaded.Descriptor.Version, latency.TotalMilliseconds, handedOver, restarted);

        // The new version serves from here on; the old one is unloaded and its collection verified.
        var cycles = await ReleaseAsync(old, reason: "replaced").ConfigureAwait(false);
        return new ReloadOutcome(loaded.Name, true, old.Descriptor.Version, loaded.Descriptor.Version, latency, handedOver, restarted, cycles, null);
    }

    private LoadedPlugin Load(string sourceDirectory)
    {
        try
        {
            return _loader.Load(sourceDirectory, Interlocked.Increment(ref _generation));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PluginLoadException(PluginLoadFailure.FolderUnreadable, $"plugin folder {sourceDirectory} cannot be read: {ex.Message}",
                "Check the folder exists and is readable; if a build is writing it, the watcher retries when it finishes.", ex);
        }
    }

    /// <summary>Another plugin already has this name or one of these kinds.</summary>
    private string? Conflict(LoadedPlugin loaded, LoadedPlugin? old)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot.Plugins.TryGetValue(loaded.Name, out var sameName) && sameName != old)
        {
            return $"a plugin named \"{loaded.Name}\" is already loaded from {sameName.SourceDirectory}";
        }

        return loaded.Drivers.Keys.FirstOrDefault(k => snapshot.Kinds.TryGetValue(k, out var owner) && owner != old) is { } kind
            ? $"unit kind \"{kind}\" is already provided by plugin \"{snapshot.Kinds[kind].Name}\""
            : null;
    }

    private async Task<bool> HandOverAsync(ISupervisedUnit unit, LoadedPlugin loaded, CancellationToken cancellationToken)
    {
        var driver = loaded.Drivers[unit.Kind];
        if (unit.Process is not { } process)
        {
            unit.UseDriver(driver);
            return true;
        }

        AttachResult result;
        try
        {
            result = await driver.AttachAsync(unit.Context, process, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            result = AttachResult.Refuse($"the new version's AttachAsync threw {ex.GetType().Name}: {ex.Message}");
        }

        if (result.Adopted)
        {
            unit.UseDriver(driver);
            new EventPublisher(_bus, _time, unit.Name, loaded.Name).Publish(HostEventKinds.UnitHandedOver, new JsonObject
            {
                ["pid"] = process.Pid,
                ["version"] = loaded.Descriptor.Version,
            });
            return true;
        }

        LogAttachRefused(unit.Name, loaded.Name, result.Reason ?? "no reason given");
        await unit.RestartWithAsync(driver, result.Reason ?? "the new plugin version refused to adopt the process", cancellationToken).ConfigureAwait(false);
        return false;
    }

    private void Publish(LoadedPlugin loaded, LoadedPlugin? old)
    {
        var s = _snapshot;
        var plugins = Snapshot.Copy(s.Plugins.Where(p => p.Key != old?.Name));
        plugins[loaded.Name] = loaded;
        var kinds = Snapshot.Copy(s.Kinds.Where(k => old is null || !old.Drivers.ContainsKey(k.Key)));
        foreach (var kind in loaded.Drivers.Keys)
        {
            kinds[kind] = loaded;
        }

        Volatile.Write(ref _snapshot, new Snapshot(plugins, kinds, Snapshot.Copy(s.Failures.Where(f => f.Key != loaded.SourceDirectory))));
    }

    private ReloadOutcome Failed(string sourceDirectory, LoadedPlugin? old, PluginLoadException error)
    {
        var (descriptor, _) = SafeDescriptor(sourceDirectory);
        var name = old?.Name ?? descriptor?.Name ?? Path.GetFileName(sourceDirectory);
        var failure = new FailedLoad(name, sourceDirectory, descriptor?.Version, descriptor?.ContractsVersion, descriptor?.Kinds ?? [], error);
        var failures = Snapshot.Copy(_snapshot.Failures);
        failures[sourceDirectory] = failure;
        Volatile.Write(ref _snapshot, _snapshot with { Failures = failures });
        _events.Publish(old is null ? HostEventKinds.PluginLoadFailed : HostEventKinds.PluginReloadFailed, new JsonObject
        {
            ["plugin"] = name,
            ["code"] = error.Code,
            ["message"] = error.Message,
            ["remedy"] = error.Remedy,
            ["running"] = old?.Descriptor.Version,
        });
        if (old is null)
        {
            LogLoadFailed(name, error.Message, error.Remedy);
        }
        else
        {
            LogReloadFailed(name, old.Descriptor.Version, error.Message, error.Remedy);
        }

        return new ReloadOutcome(name, false, old?.Descriptor.Version, descriptor?.Version, TimeSpan.Zero, 0, 0, null, error.Message);
    }

    private static (PluginDescriptor?, IReadOnlyList<ManifestProblem>) SafeDescriptor(string directory)
    {
        try
        {
            return PluginDescriptorReader.Read(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, []);
        }
    }

    /// <summary>How long a replaced version's route handlers (a WebSocket session, told by its token) have to end.</summary>
    public static readonly TimeSpan RouteRetirement = TimeSpan.FromSeconds(5);

    /// <summary>Unloads a version and verifies its collection; returns GC cycles taken, or null on a leak.</summary>
    private async Task<int?> ReleaseAsync(LoadedPlugin plugin, string reason)
    {
        var name = plugin.Name;
        var version = plugin.Descriptor.Version;
        var shadow = plugin.ShadowDirectory;
        if (plugin.RouteGate is { } gate && !await gate.RetireAsync(RouteRetirement, _time).ConfigureAwait(false))
        {
            LogRoutesBusy(name, version, RouteRetirement.TotalSeconds);
        }

        await DisposeInstanceAsync(plugin.TakeInstance(), name).ConfigureAwait(false);
        var weak = plugin.Unload();

        // On another thread: no frame of this method (whose locals a debug build keeps alive) is on
        // the stack while the collector decides whether the context is still reachable.
        var cycles = await Task.Run(() => UnloadVerifier.WaitForCollectionAsync(weak, _time)).ConfigureAwait(false);
        if (cycles is null)
        {
            _events.Publish(HostEventKinds.PluginUnloadLeak, new JsonObject
            {
                ["plugin"] = name,
                ["version"] = version,
                ["gcCycles"] = UnloadVerifier.MaxGcCycles,
                ["hint"] = "something still references the plugin's types: a static cache, an event subscription, a timer or a thread the plugin did not stop",
            });
            LogLeak(name, version, UnloadVerifier.MaxGcCycles);
            return null;
        }

        ShadowCopy.TryDelete(shadow);
        if (reason == "replaced")
        {
            _events.Publish(HostEventKinds.PluginUnloaded, new JsonObject { ["plugin"] = name, ["version"] = version, ["gcCycles"] = cycles });
        }

        return cycles;
    }

    private async Task DisposeInstanceAsync(IPlugin? instance, string name)
    {
        if (instance is null)
        {
            return;
        }

        try
        {
            await instance.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A plugin's failure to clean up is reported, never allowed to stop the unload of the others.
            LogDisposeFailed(name, ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            // The host is stopping: plugins are disposed and unloaded, but not watched for collection
            // (whatever still references them goes away with the process).
            var snapshot = _snapshot;
            Volatile.Write(ref _snapshot, Snapshot.Empty);
            foreach (var plugin in snapshot.Plugins.Values)
            {
                if (plugin.RouteGate is { } gate)
                {
                    await gate.RetireAsync(RouteRetirement, _time).ConfigureAwait(false); // open WebSockets end now
                }

                await DisposeInstanceAsync(plugin.TakeInstance(), plugin.Name).ConfigureAwait(false);
                plugin.Unload();
                ShadowCopy.TryDelete(plugin.ShadowDirectory);
            }
        }
        finally
        {
            _gate.Release();
        }

        _gate.Dispose();
    }

    /// <summary>
    /// What the catalog holds, replaced whole: readers take it with <see cref="Volatile.Read{T}(ref T)"/>
    /// and never see a change half made; it is only replaced under <c>_gate</c>. Plugins are few and
    /// change rarely, so each change copies (plain dictionaries: the immutable collections' assembly
    /// alone kept ≈ 1 MB resident).
    /// </summary>
    private sealed record Snapshot(
        IReadOnlyDictionary<string, LoadedPlugin> Plugins,
        IReadOnlyDictionary<string, LoadedPlugin> Kinds,
        IReadOnlyDictionary<string, FailedLoad> Failures)
    {
        public static Snapshot Empty { get; } = new(Copy<LoadedPlugin>([]), Copy<LoadedPlugin>([]), Copy<FailedLoad>([]));

        public static Dictionary<string, T> Copy<T>(IEnumerable<KeyValuePair<string, T>> entries) => new(entries, StringComparer.Ordinal);
    }

    private sealed record FailedLoad(string Name, string SourceDirectory, string? Version, Version? ContractsVersion, IReadOnlyList<string> Kinds, PluginLoadException Error);
}
