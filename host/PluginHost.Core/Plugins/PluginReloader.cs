using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Manifests;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Changes what the catalog holds, one plugin folder at a time (the catalog serializes the calls):
/// loads the new version beside the old, checks it against the others, hands the old version's
/// units over to it (or has those that it refuses restarted), then unloads the old version and
/// verifies its collection. Every outcome is an event and a log line; a failure leaves the catalog
/// as it was.
/// </summary>
internal sealed partial class PluginReloader(PluginCatalog catalog, PluginLoader loader, EventBus bus, TimeProvider time, ILogger logger)
{
    private readonly PluginCatalog _catalog = catalog;
    private readonly PluginLoader _loader = loader;
    private readonly EventBus _bus = bus;
    private readonly TimeProvider _time = time;
    private readonly EventPublisher _events = new(bus, time, unit: null, plugin: null);
    private readonly ILogger _logger = logger;
    private int _generation;

    /// <summary>How long a replaced version's route handlers (a WebSocket session, told by its token) have to end.</summary>
    public static readonly TimeSpan RouteRetirement = TimeSpan.FromSeconds(5);

    /// <param name="old">The version loaded from the same folder, which the new one replaces; null for a first load.</param>
    /// <param name="units">The supervised units, whose units of <paramref name="old"/>'s kinds are handed over.</param>
    public async Task<ReloadOutcome> SwapAsync(string sourceDirectory, LoadedPlugin? old, ISupervisedUnits? units, CancellationToken cancellationToken)
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
        var inUse = old is null || units is null ? [] : units.UnitsOfKinds(old.Drivers.Keys.ToHashSet(StringComparer.Ordinal));
        var lost = inUse.Where(u => !loaded.Drivers.ContainsKey(u.Kind)).Select(u => $"{u.Name} ({u.Kind})").ToArray();
        if (lost.Length > 0)
        {
            await ReleaseAsync(loaded, reason: "rejected").ConfigureAwait(false);
            return Failed(sourceDirectory, old, new PluginLoadException(PluginLoadFailure.KindsMismatch,
                $"plugin \"{loaded.Name}\" {loaded.Descriptor.Version} no longer provides kinds used by running units: {string.Join(", ", lost)}",
                "Keep those kinds in the new version, or remove those units' manifests first."));
        }

        foreach (var unit in inUse)
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

        _catalog.Replace(_catalog.Current.With(loaded, old));
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
        var snapshot = _catalog.Current;
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

    private ReloadOutcome Failed(string sourceDirectory, LoadedPlugin? old, PluginLoadException error)
    {
        var (descriptor, _) = SafeDescriptor(sourceDirectory);
        var name = old?.Name ?? descriptor?.Name ?? Path.GetFileName(sourceDirectory);
        var failure = new FailedLoad(name, sourceDirectory, descriptor?.Version, descriptor?.ContractsVersion, descriptor?.Kinds ?? [], error);
        _catalog.Replace(_catalog.Current.WithFailure(failure));
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

    /// <summary>
    /// The host is stopping: plugins are disposed and unloaded, but not watched for collection
    /// (whatever still references them goes away with the process).
    /// </summary>
    public async Task UnloadAllAsync(IEnumerable<LoadedPlugin> plugins)
    {
        foreach (var plugin in plugins)
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
}
