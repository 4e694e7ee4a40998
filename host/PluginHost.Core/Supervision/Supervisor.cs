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
    // Replaced whole, only under _gate; read without a lock (Volatile.Read) by the API and the sampler.
    private IReadOnlyDictionary<string, UnitSupervisor> _units = new Dictionary<string, UnitSupervisor>(StringComparer.Ordinal);
    private IReadOnlyList<string> _order = [];

    public Supervisor(PluginCatalog plugins, UnitServices services, TimeSpan usageInterval, ILogger<Supervisor> logger)
    {
        ArgumentNullException.ThrowIfNull(plugins);
        ArgumentNullException.ThrowIfNull(services);
        _plugins = plugins;
        _services = services;
        _logger = logger;
        _usage = new UsageSampler(() => Volatile.Read(ref _units).Values, services.Time, usageInterval);
        plugins.AttachUnits(this);
    }

    public UnitSupervisor? Find(string name) => Volatile.Read(ref _units).GetValueOrDefault(name);

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
    public async Task StartAsync(UnitSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var survivors = (_services.Journal?.Processes() ?? []).ToDictionary(r => r.Unit, StringComparer.Ordinal);
            foreach (var orphan in survivors.Values.Where(r => !CanAdopt(r, set)))
            {
                await TerminateAsync(orphan).ConfigureAwait(false);
                survivors.Remove(orphan.Unit);
            }

            Volatile.Write(ref _order, set.StartOrder);
            foreach (var name in set.StartOrder)
            {
                var unit = Add(set.Units[name], autostart: false);
                var adopted = survivors.TryGetValue(name, out var record) && await unit.AdoptAsync(record, cancellationToken).ConfigureAwait(false);
                if (record is not null && !adopted)
                {
                    await TerminateAsync(record).ConfigureAwait(false);
                }

                if (!adopted && unit.Manifest is { Enabled: true, Autostart: true })
                {
                    unit.Start("autostart");
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
            await ProcessGroupStopper.StopAsync(record.Session, LibC.SIGTERM, TimeSpan.FromSeconds(5), _services.Time).ConfigureAwait(false);
        }

        OutputHolder.Release(record.HolderPid, record.HolderStartTimeTicks, isChild: false);
        _services.Journal?.ForgetProcess(record.Unit);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Unit {Unit}: terminating pid {Pid} left by a previous host (unit removed, changed, disabled or reattach: false)")]
    private partial void LogTerminating(string unit, int pid);

    /// <summary>Applies a validated manifest diff: removed units stop, changed ones restart with their new manifest, added ones start.</summary>
    public async Task ApplyAsync(ManifestDiff diff, UnitSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(diff);
        ArgumentNullException.ThrowIfNull(set);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var removed in diff.Removed.Concat(diff.Changed).Reverse())
            {
                if (Find(removed.Name) is { } unit)
                {
                    Volatile.Write(ref _units, _units.Where(u => u.Key != removed.Name).ToDictionary(StringComparer.Ordinal));
                    await unit.DisposeAsync().ConfigureAwait(false);
                }
            }

            Volatile.Write(ref _order, set.StartOrder);
            foreach (var name in set.StartOrder)
            {
                if (diff.Added.Concat(diff.Changed).Any(u => u.Name == name))
                {
                    Add(set.Units[name]);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private UnitSupervisor Add(UnitManifest manifest, bool autostart = true)
    {
        var driver = _plugins.FindDriver(manifest.Kind)
            ?? throw new InvalidOperationException($"no driver for kind {manifest.Kind} (validated manifests guarantee one)");
        var unit = new UnitSupervisor(manifest, driver, _services, WaitForReadyAsync, () => PluginOf(manifest.Kind));
        Volatile.Write(ref _units, new Dictionary<string, UnitSupervisor>(_units, StringComparer.Ordinal) { [manifest.Name] = unit });
        if (autostart && manifest.Enabled && manifest.Autostart)
        {
            unit.Start("autostart");
        }

        return unit;
    }

    private PluginRef? PluginOf(string kind) => _plugins.PluginOfKind(kind) is { } plugin ? new PluginRef(plugin.Name, plugin.Descriptor.Version) : null;

    private Task WaitForReadyAsync(string unit, CancellationToken cancellationToken) =>
        Find(unit)?.WhenReadyAsync(cancellationToken) ?? Task.CompletedTask;

    public IReadOnlyList<ISupervisedUnit> UnitsOfKinds(IReadOnlySet<string> kinds) =>
        Volatile.Read(ref _units).Values.Where(u => kinds.Contains(u.Kind)).ToArray();

    /// <summary>Stops every unit, dependents before what they depend on.</summary>
    public async Task StopAllAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var units = Volatile.Read(ref _units);
            foreach (var name in Volatile.Read(ref _order).Reverse().Where(units.ContainsKey))
            {
                await units[name].DisposeAsync().ConfigureAwait(false);
            }

            Volatile.Write(ref _units, new Dictionary<string, UnitSupervisor>(StringComparer.Ordinal));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _usage.Dispose();
        await StopAllAsync().ConfigureAwait(false);
        _gate.Dispose();
    }
}
