using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Units;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Processes;
using PluginHost.Core.Storage;

namespace PluginHost.Core.Supervision;

/// <summary>
/// The engine: one <see cref="UnitSupervisor"/> per unit, started in dependency order, stopped in
/// reverse; applies manifest diffs (only the units that changed are touched) and lends its units
/// to plugin hot reloads.
/// </summary>
internal sealed partial class Supervisor : ISupervisedUnits, IAsyncDisposable
{
    private readonly PluginCatalog _plugins;
    private readonly UnitServices _services;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly UsageSampler _usage;
    private readonly ITimer _quietLogs;
    private readonly TimeSpan _stopDeadline;
    // Replaced whole, only under _gate; read without a lock (Volatile.Read) by the API and the sampler.
    private IReadOnlyDictionary<string, UnitSupervisor> _units = new Dictionary<string, UnitSupervisor>(StringComparer.Ordinal);
    private IReadOnlyList<string> _order = [];

    /// <param name="stopDeadline">How long stopping every unit at host shutdown may take; what still runs then is killed.</param>
    /// <param name="quietLogInterval">A unit's log file is closed when nothing was written to it for this long (and opened again by its next line).</param>
    public Supervisor(PluginCatalog plugins, UnitServices services, TimeSpan usageInterval, TimeSpan stopDeadline, TimeSpan quietLogInterval, ILogger<Supervisor> logger)
    {
        ArgumentNullException.ThrowIfNull(plugins);
        ArgumentNullException.ThrowIfNull(services);
        _plugins = plugins;
        _services = services;
        _stopDeadline = stopDeadline;
        _logger = logger;
        _usage = new UsageSampler(() => Volatile.Read(ref _units).Values, services.Time, usageInterval);
        _quietLogs = services.Time.CreateTimer(_ => CloseQuietLogs(), null, quietLogInterval, quietLogInterval);
        plugins.AttachUnits(this);
    }

    private void CloseQuietLogs()
    {
        foreach (var unit in Volatile.Read(ref _units).Values)
        {
            unit.Log.CloseIfQuiet();
        }
    }

    public UnitSupervisor? Find(string name) => Volatile.Read(ref _units).GetValueOrDefault(name);

    /// <summary>Every unit now (a snapshot: safe to enumerate while units come and go).</summary>
    public IEnumerable<UnitSupervisor> Units() => Volatile.Read(ref _units).Values;

    /// <summary>Status records in start order.</summary>
    public IReadOnlyList<UnitStatus> Statuses()
    {
        var units = Volatile.Read(ref _units);
        return Volatile.Read(ref _order).Where(units.ContainsKey).Select(n => units[n].Status()).ToArray();
    }

    /// <summary>
    /// Creates every unit. A unit whose process survived a host crash (journal) is re-attached to it
    /// when its manifest allows and has not changed; any other survivor is terminated. The rest of
    /// the enabled, autostart units start (each waits for what it follows).
    /// </summary>
    /// <exception cref="UnitErrorException">A unit cannot be set up (its data folder or log): nothing was started.</exception>
    public async Task StartAsync(UnitSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var prepared = Prepare(set.StartOrder.Select(n => set.Units[n]), keep: null);
            var survivors = (_services.Journal?.Processes() ?? []).ToDictionary(r => r.Unit, StringComparer.Ordinal);
            foreach (var orphan in survivors.Values.Where(r => !CanAdopt(r, set)))
            {
                await TerminateAsync(orphan).ConfigureAwait(false);
                survivors.Remove(orphan.Unit);
            }

            Volatile.Write(ref _order, set.StartOrder);
            foreach (var name in set.StartOrder)
            {
                var unit = Add(prepared[name], autostart: false);
                var adopted = survivors.TryGetValue(name, out var record) && await unit.AdoptAsync(record, cancellationToken).ConfigureAwait(false);
                if (record is not null && !adopted)
                {
                    await TerminateAsync(record).ConfigureAwait(false);
                }

                if (!adopted && unit.Manifest is { Enabled: true, Autostart: true })
                {
                    unit.Autostart();
                }
                else if (!adopted && unit.Manifest.Enabled)
                {
                    unit.ArmKeepAlive();
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool CanAdopt(ProcessRecord record, UnitSet set) =>
        set.Units.TryGetValue(record.Unit, out var manifest) && manifest.Enabled && manifest.Reattach && manifest.Fingerprint == record.Fingerprint;

    /// <summary>Stops a process left by a previous host that this host will not adopt.</summary>
    private async Task TerminateAsync(ProcessRecord record)
    {
        if (ProcStat.Read(record.Pid) is { IsZombie: false } stat && stat.StartTimeTicks == record.StartTimeTicks)
        {
            LogTerminating(record.Unit, record.Pid);
            await ProcessGroupStopper.StopAsync(new ProcessFamily(record.Session), LibC.SIGTERM, TimeSpan.FromSeconds(5), _services.Time).ConfigureAwait(false);
        }

        OutputHolder.Release(record.HolderPid, record.HolderStartTimeTicks, isChild: false);
        _services.Journal?.ForgetProcess(record.Unit);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Unit {Unit}: terminating pid {Pid} left by a previous host (unit removed, changed, disabled or reattach: false)")]
    private partial void LogTerminating(string unit, int pid);

    /// <summary>
    /// Applies a validated manifest diff, all of it or none of it: every added and changed unit is
    /// set up first (driver, data folder, log); only then do removed units stop, changed ones restart
    /// with their new manifest and added ones start.
    /// </summary>
    /// <exception cref="UnitErrorException">A unit of the diff cannot be set up: nothing was changed.</exception>
    public async Task ApplyAsync(ManifestDiff diff, UnitSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(diff);
        ArgumentNullException.ThrowIfNull(set);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var arriving = diff.Added.Concat(diff.Changed).ToDictionary(u => u.Name, StringComparer.Ordinal);
            var prepared = Prepare(set.StartOrder.Where(arriving.ContainsKey).Select(n => arriving[n]), keep: Volatile.Read(ref _units));

            // Nothing below can fail for a reason of the edit's: the edit is committed.
            var changed = diff.Changed.Select(u => u.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var leaving in diff.Removed.Concat(diff.Changed).Reverse())
            {
                if (Find(leaving.Name) is { } unit)
                {
                    Volatile.Write(ref _units, _units.Where(u => u.Key != leaving.Name).ToDictionary(StringComparer.Ordinal));
                    var isChanged = changed.Contains(leaving.Name);
                    await unit.StopAndDisposeAsync(isChanged ? $"manifest changed ({leaving.File})" : $"manifest removed ({leaving.File})").ConfigureAwait(false);
                    if (!isChanged)
                    {
                        unit.Log.Dispose();
                    }
                }
            }

            Volatile.Write(ref _order, set.StartOrder);
            foreach (var name in set.StartOrder.Where(prepared.ContainsKey))
            {
                Add(prepared[name]);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Sets up what each unit needs before it may run (its driver, data folder and log) without
    /// starting anything; a unit already running keeps its log. All or nothing: on the first failure
    /// the logs opened here are closed again and the error says which unit and what to do.
    /// </summary>
    private Dictionary<string, PreparedUnit> Prepare(IEnumerable<UnitManifest> manifests, IReadOnlyDictionary<string, UnitSupervisor>? keep)
    {
        var prepared = new Dictionary<string, PreparedUnit>(StringComparer.Ordinal);
        try
        {
            foreach (var manifest in manifests)
            {
                var driver = _plugins.FindDriver(manifest.Kind) ?? throw new UnitErrorException(new UnitError("KIND_UNAVAILABLE",
                    $"Unit {manifest.Name} ({manifest.File}) cannot be set up: no loaded plugin provides kind {manifest.Kind} any more.",
                    "Check `pluginhost plugins` for the plugin that provides it, then save the manifest again (or start the host again)."));
                var existing = keep?.GetValueOrDefault(manifest.Name)?.Log;
                prepared.Add(manifest.Name, new PreparedUnit(manifest, driver, UnitStorage.Prepare(_services, manifest.Name, existing), OwnsLog: existing is null));
            }

            return prepared;
        }
        catch
        {
            foreach (var unit in prepared.Values.Where(u => u.OwnsLog))
            {
                unit.Log.Dispose();
            }

            throw;
        }
    }

    private UnitSupervisor Add(PreparedUnit prepared, bool autostart = true)
    {
        var manifest = prepared.Manifest;
        if (_units.ContainsKey(manifest.Name))
        {
            // Two supervisors of one unit would each run a process: never replace one silently.
            throw new InvalidOperationException($"unit {manifest.Name} is already supervised");
        }

        var unit = new UnitSupervisor(manifest, prepared.Driver, _services, prepared.Log, WaitForReadyAsync, () => PluginOf(manifest.Kind),
            name => Find(name)?.Manifest.Enabled == true);
        Volatile.Write(ref _units, new Dictionary<string, UnitSupervisor>(_units, StringComparer.Ordinal) { [manifest.Name] = unit });
        if (autostart && manifest.Enabled && manifest.Autostart)
        {
            unit.Autostart();
        }
        else if (autostart && manifest.Enabled)
        {
            unit.ArmKeepAlive();
        }

        return unit;
    }

    private sealed record PreparedUnit(UnitManifest Manifest, IUnitDriver Driver, Logs.UnitLog Log, bool OwnsLog);

    private PluginRef? PluginOf(string kind) => _plugins.PluginOfKind(kind) is { } plugin
        ? new PluginRef(plugin.Name, plugin.Descriptor.Version, plugin.Panel is { } panel ? $"/plugins/{plugin.Name}/ui/{panel.Module}?v={plugin.Generation}" : null)
        : null;

    private Task WaitForReadyAsync(string unit, CancellationToken cancellationToken) =>
        Find(unit)?.WhenReadyAsync(cancellationToken) ?? Task.CompletedTask;

    public IReadOnlyList<ISupervisedUnit> UnitsOfKinds(IReadOnlySet<string> kinds) =>
        Volatile.Read(ref _units).Values.Where(u => kinds.Contains(u.Kind)).ToArray();

    /// <summary>Stops every unit, dependents before what they depend on.</summary>
    /// <remarks>
    /// As Hosting's <c>Host.StopAsync</c> does: each unit's stop is contained (one that fails or hangs
    /// does not keep the others from stopping), all of it under one deadline, and every failure is
    /// reported at the end. A unit stops once every unit that follows it (<c>after:</c>) has stopped;
    /// units that do not depend on each other stop at the same time.
    /// </remarks>
    /// <returns>What went wrong, one line per unit (empty when every unit stopped).</returns>
    public async Task<IReadOnlyList<string>> StopAllAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var units = Volatile.Read(ref _units);
            var failures = new List<string>();
            var stops = new Dictionary<string, Task>(StringComparer.Ordinal);
            var followers = units.Values.SelectMany(u => u.Manifest.After.Select(d => (Of: d, Unit: u.Name))).ToLookup(f => f.Of, f => f.Unit, StringComparer.Ordinal);
            foreach (var name in Volatile.Read(ref _order).Reverse().Where(units.ContainsKey))
            {
                // Reverse start order: every unit that follows this one already has its stop task.
                var dependents = followers[name].Select(stops.GetValueOrDefault).OfType<Task>().ToArray();
                stops[name] = StopOneAsync(units[name], dependents, failures);
            }

            var all = Task.WhenAll(stops.Values);
            if (await Task.WhenAny(all, Task.Delay(_stopDeadline, _services.Time)).ConfigureAwait(false) != all)
            {
                foreach (var (name, stop) in stops.Where(s => !s.Value.IsCompleted))
                {
                    // Past the deadline: what still runs is killed, and the host goes on stopping.
                    units[name].Kill();
                    Record(failures, $"{name}: not stopped within {PluginHost.Contracts.Specs.Duration.Format(_stopDeadline)}; killed (SIGKILL to its processes)");
                }
            }

            Volatile.Write(ref _units, new Dictionary<string, UnitSupervisor>(StringComparer.Ordinal));
            foreach (var failure in failures)
            {
                LogStopFailed(failure);
            }

            return failures;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task StopOneAsync(UnitSupervisor unit, Task[] dependents, List<string> failures)
    {
        await Task.WhenAll(dependents).ConfigureAwait(false); // never faults: each stop contains its own failure
        try
        {
            await unit.StopAndDisposeAsync("host stopping").ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            unit.Kill();
            Record(failures, $"{unit.Name}: {ex.GetType().Name}: {ex.Message}; killed");
        }
        finally
        {
            unit.Log.Dispose();
        }
    }

    private static void Record(List<string> failures, string failure)
    {
        lock (failures)
        {
            failures.Add(failure);
        }
    }

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "Host stop: {Failure}")]
    private partial void LogStopFailed(string failure);

    public async ValueTask DisposeAsync()
    {
        _usage.Dispose();
        _quietLogs.Dispose();
        await StopAllAsync().ConfigureAwait(false);
        _gate.Dispose();
    }
}
