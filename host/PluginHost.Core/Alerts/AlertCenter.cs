using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Logs;
using PluginHost.Core.Supervision;

namespace PluginHost.Core.Alerts;

/// <summary>
/// Turns what the host sees into alerts (<see cref="AlertRules"/>) and sends each where host.yaml
/// says: a line in <c>DATA/logs/alerts.log</c> (the seed's alerts log), an <c>alert</c> event on the
/// stream and the dashboard, and the webhook. It listens to the event bus and owns the disk and
/// port monitors; nothing here is on a unit's supervision path (the bus hands events over, the
/// webhook has its own queue).
/// </summary>
internal sealed partial class AlertCenter : IAsyncDisposable
{
    private const int RecentCapacity = 200;
    private readonly AlertRules _rules;
    private readonly EventBus _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EventBus.Subscription _subscription;
    private readonly RotatingLogFile? _log;
    private readonly WebhookSender? _webhook;
    private readonly DiskMonitor _disk;
    private readonly PortConflictMonitor? _ports;
    private readonly Queue<Alert> _recent = new();
    private readonly Lock _gate = new();
    private readonly Task _loop;

    public AlertCenter(AlertSettings settings, string dataDirectory, EventBus events, Func<IEnumerable<UnitSupervisor>> units, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(events);
        _rules = new AlertRules(settings);
        _events = events;
        _time = time;
        _logger = logger;
        // Subscribed before the monitors start, so that their first events are seen.
        _subscription = events.Subscribe(10_000, e => e.Kind is PortConflictMonitor.EventKind or "unit_gave_up" or "unit_state" or AlertRules.DiskLowKind
            or Storage.StorageAlarm.FailedKind);
        LogPath = Path.Combine(dataDirectory, "logs", "alerts.log");
        _log = settings.Log ? new RotatingLogFile(LogPath, LogSettings.Default, stamped: false) : null;
        _webhook = settings.WebhookUrl is { } url ? new WebhookSender(url, settings, time, logger) : null;
        _disk = new DiskMonitor([dataDirectory, Path.Combine(dataDirectory, "logs")], settings, events, time);
        _ports = settings.PortInterval is { } interval ? new PortConflictMonitor(units, time, interval) : null;
        _loop = Task.Run(RunAsync);
    }

    public string LogPath { get; }

    public WebhookSender? Webhook => _webhook;

    /// <summary>The newest alerts, oldest first (the API's /api/alerts).</summary>
    public IReadOnlyList<Alert> Recent()
    {
        lock (_gate)
        {
            return [.. _recent];
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var item in _subscription.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (_rules.Evaluate(item.Event) is { } alert)
                {
                    Raise(alert);
                }
            }
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            LogFailed(_logger, ex.ToString()); // alerts stop; supervision does not
        }
    }

    private void Raise(Alert alert)
    {
        lock (_gate)
        {
            _recent.Enqueue(alert);
            while (_recent.Count > RecentCapacity)
            {
                _recent.Dequeue();
            }

            // A full disk loses the line (counted by the log file); the event and the webhook still carry it.
            _log?.Write(new OutputLine(OutputStream.Stdout, alert.Line, alert.At));
            _log?.Flush();
        }

        new EventPublisher(_events, _time, alert.Unit, plugin: null).Publish(Alert.EventKind, new JsonObject
        {
            ["code"] = alert.Code,
            ["message"] = alert.Message,
            ["remedy"] = alert.Remedy,
            ["at"] = alert.At.ToString("O"), // the alert's own time: a page that read /api/alerts too shows it once
        });
        _webhook?.Send(alert);
        LogAlert(_logger, alert.Code, alert.Unit ?? "host", alert.Message);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Code} ({Unit}): {Message}")]
    private static partial void LogAlert(ILogger logger, string code, string unit, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alerts stopped after a host bug: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);

    public async ValueTask DisposeAsync()
    {
        _ports?.Dispose();
        _disk.Dispose();
        _subscription.Dispose();
        await _loop.ConfigureAwait(false);
        if (_webhook is not null)
        {
            await _webhook.DisposeAsync().ConfigureAwait(false);
        }

        lock (_gate)
        {
            _log?.Dispose();
        }
    }
}
