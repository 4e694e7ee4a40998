using System.Text.Json;
using PluginHost.Contracts.Events;
using PluginHost.Core.Storage;
using PluginHost.Core.Supervision;

namespace PluginHost.Core.Alerts;

/// <summary>
/// Which host events are alerts, the seed's list first: a port held by another process, a unit
/// that gave up, a unit restarting too often, a disk nearly full — and a data folder the host
/// cannot write. The same alert (code, unit, message) is raised again only after
/// <see cref="AlertSettings.RepeatAfter"/>, so a crash loop is one alert, not one a second. Pure
/// apart from its memory of restarts and of what it raised: events in, alerts out.
/// </summary>
internal sealed class AlertRules(AlertSettings settings)
{
    public const string DiskLowKind = "disk_low";
    private readonly Dictionary<string, Queue<DateTimeOffset>> _restarts = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string?, string), DateTimeOffset> _raised = [];

    public Alert? Evaluate(HostEvent hostEvent)
    {
        ArgumentNullException.ThrowIfNull(hostEvent);
        var alert = hostEvent.Kind switch
        {
            PortConflictMonitor.EventKind => FromPayload(hostEvent, "PORT_CONFLICT"),
            "unit_gave_up" => FromPayload(hostEvent, "UNIT_GAVE_UP"),
            StorageAlarm.FailedKind => FromPayload(hostEvent, Text(hostEvent, "code", "STORAGE_FAILED")!), // the storage's own code (DISK_FULL…)
            DiskLowKind => FromPayload(hostEvent, "DISK_LOW"),
            "unit_state" when To(hostEvent) == "backoff" => RestartedOften(hostEvent),
            _ => null,
        };
        return alert is null || Repeated(alert) ? null : alert;
    }

    private static string? To(HostEvent e) => e.Payload.ValueKind == JsonValueKind.Object && e.Payload.TryGetProperty("to", out var to) ? to.GetString() : null;

    /// <summary>An alert in the words of the event that raised it: its message and remedy, its unit (or the payload's).</summary>
    private static Alert FromPayload(HostEvent e, string code) =>
        new(code, e.Unit ?? Text(e, "unit", null), Text(e, "message", e.Kind)!, Text(e, "remedy", "See the host's log.")!, e.Timestamp);

    private static string? Text(HostEvent e, string name, string? fallback) =>
        e.Payload.ValueKind == JsonValueKind.Object && e.Payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : fallback;

    private Alert? RestartedOften(HostEvent e)
    {
        if (e.Unit is not { } unit || settings.RestartCount <= 0)
        {
            return null;
        }

        if (!_restarts.TryGetValue(unit, out var times))
        {
            _restarts[unit] = times = new Queue<DateTimeOffset>();
        }

        times.Enqueue(e.Timestamp);
        while (times.Count > 0 && e.Timestamp - times.Peek() > settings.RestartWindow)
        {
            times.Dequeue();
        }

        if (times.Count <= settings.RestartCount)
        {
            return null;
        }

        var reason = e.Payload.TryGetProperty("reason", out var r) ? r.GetString() : null;
        return new Alert("RESTARTING_TOO_OFTEN", unit,
            $"{unit} restarted {times.Count} times within {PluginHost.Contracts.Specs.Duration.Format(settings.RestartWindow)} (last: {reason}).",
            $"Read its error output (`pluginhost logs {unit}`); check its port, environment and dependencies; a longer ThrottleInterval (or restart.minInterval) spaces the restarts.",
            e.Timestamp);
    }

    private bool Repeated(Alert alert)
    {
        var key = (alert.Code, alert.Unit, alert.Code == "RESTARTING_TOO_OFTEN" ? "" : alert.Message);
        if (_raised.TryGetValue(key, out var last) && alert.At - last < settings.RepeatAfter)
        {
            return true;
        }

        _raised[key] = alert.At;
        return false;
    }
}
