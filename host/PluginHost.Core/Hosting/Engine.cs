using Microsoft.Extensions.Logging;
using PluginHost.Core.Events;
using PluginHost.Core.Logs;
using PluginHost.Core.Plugins;
using PluginHost.Core.Storage;
using PluginHost.Core.Supervision;

using PluginHost.Core.Supervision.Health;

namespace PluginHost.Core.Hosting;

/// <summary>
/// The supervision engine over a data folder — the journal, what every unit shares, and the
/// supervisor — composed in this one place, used by <c>pluginhost run</c> and by the engine tests
/// alike, so that what the tests drive is what runs.
/// </summary>
internal sealed class Engine : IAsyncDisposable
{
    private Engine(Journal journal, UnitServices services, Supervisor supervisor, Alerts.AlertCenter alerts)
    {
        Journal = journal;
        Services = services;
        Supervisor = supervisor;
        Alerts = alerts;
    }

    /// <summary>Port conflicts, units that gave up or restart too often, a disk nearly full: the alerts log, events, webhook.</summary>
    public Alerts.AlertCenter Alerts { get; }

    public Journal Journal { get; }

    public UnitServices Services { get; }

    public Supervisor Supervisor { get; }

    /// <exception cref="StorageException">The journal cannot be opened (the host reports an unusable data folder).</exception>
    public static Engine Create(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var journalPath = Path.Combine(options.DataDirectory, "journal.db");
        var journal = new Journal(journalPath, options.Time, options.Alarm.Component("the journal", journalPath));
        var services = new UnitServices(options.Time, options.Events, new PortAllocator(), new ProbeRunner(options.Time),
            options.DataDirectory, options.Logs, options.Loggers, options.Random, journal, options.Alarm);
        var supervisor = new Supervisor(options.Plugins, services, options.UsageInterval, options.StopDeadline, options.QuietLogInterval, options.Loggers.CreateLogger<Supervisor>());
        var alerts = new Alerts.AlertCenter(options.Alerts, options.DataDirectory, options.Events, supervisor.Units, options.Time, options.Loggers.CreateLogger<Alerts.AlertCenter>());
        return new Engine(journal, services, supervisor, alerts);
    }

    /// <summary>Stops every unit (dependents first), then closes the journal.</summary>
    public async ValueTask DisposeAsync()
    {
        await Supervisor.DisposeAsync().ConfigureAwait(false);
        await Alerts.DisposeAsync().ConfigureAwait(false); // after the units: their last events (a give-up at stop) still count
        Journal.Dispose();
    }
}

/// <summary>What an engine is made of; the defaults are the host's.</summary>
internal sealed record EngineOptions(string DataDirectory, EventBus Events, StorageAlarm Alarm, PluginCatalog Plugins, TimeProvider Time, ILoggerFactory Loggers)
{
    /// <summary>How often CPU and memory of every unit's processes are sampled.</summary>
    public TimeSpan UsageInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A unit's log file is closed once nothing was written to it for this long (one descriptor fewer per quiet unit).</summary>
    public TimeSpan QuietLogInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>One overall deadline for stopping every unit at host shutdown; what still runs then is killed.</summary>
    public TimeSpan StopDeadline { get; init; } = TimeSpan.FromMinutes(2);

    public LogSettings Logs { get; init; } = LogSettings.Default;

    public Alerts.AlertSettings Alerts { get; init; } = Core.Alerts.AlertSettings.Default;

    /// <summary>The jitter source of restart backoff.</summary>
    public Func<double> Random { get; init; } = System.Random.Shared.NextDouble;
}
