using System.Globalization;
using System.Text;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using PluginHost.Core.Storage;
using PluginHost.Core.Supervision;

namespace PluginHost.Api;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format (0.0.4), written by hand from the host's own
/// state (prometheus-net is not available here, and the figures already live on the status records).
/// </summary>
internal static class MetricsText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly string[] States = ["idle", "starting", "ready", "backoff", "restarting", "stopping", "stopped", "failed"];

    public static string Render(Supervisor supervisor, PluginCatalog plugins, EventBus events, StorageAlarm alarm, int sseClients)
    {
        var text = new StringBuilder();
        var units = supervisor.Statuses().Select(s => (Status: s, Unit: supervisor.Find(s.Name))).ToArray();

        Family(text, UnitMetricNames.State, "gauge", "1 for the state the unit is in, 0 for the others.");
        foreach (var (status, _) in units)
        {
            foreach (var state in States)
            {
                Sample(text, UnitMetricNames.State, [("unit", status.Name), ("kind", status.Kind), ("state", state)], state == status.State ? 1 : 0);
            }
        }

        Family(text, UnitMetricNames.RestartsTotal, "counter", "Automatic restarts since the host started.");
        Each(text, units, UnitMetricNames.RestartsTotal, u => u.Status.Restarts);
        Family(text, UnitMetricNames.UptimeSeconds, "gauge", "Seconds since the unit's current process started (absent when not running).");
        Each(text, units, UnitMetricNames.UptimeSeconds, u => u.Status.UptimeSeconds);
        Family(text, UnitMetricNames.CpuPercent, "gauge", "CPU of the unit's whole process tree, percent of one core.");
        Each(text, units, UnitMetricNames.CpuPercent, u => u.Status.CpuPercent);
        Family(text, UnitMetricNames.RssBytes, "gauge", "Resident memory of the unit's whole process tree.");
        Each(text, units, UnitMetricNames.RssBytes, u => u.Status.RssBytes);
        // Gauges a unit's kind measures itself (e.g. a GPU's memory): one family per name.
        foreach (var name in units.SelectMany(u => u.Status.Gauges?.Keys ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var family = UnitMetricNames.Prefix + name;
            var help = units.Select(u => u.Unit?.GaugeHelp.GetValueOrDefault(name)).FirstOrDefault(h => !string.IsNullOrEmpty(h)) ?? "Measured by the unit's plugin.";
            Family(text, family, "gauge", help.Replace("\\", "\\\\", StringComparison.Ordinal).ReplaceLineEndings(" "));
            Each(text, units, family, u => u.Status.Gauges is { } gauges && gauges.TryGetValue(name, out var value) ? value : null);
        }

        Family(text, UnitMetricNames.LogLinesTotal, "counter", "Output lines captured from the unit since the host started.");
        Each(text, units, UnitMetricNames.LogLinesTotal, u => u.Unit?.Log.LinesCaptured);
        Family(text, UnitMetricNames.LogLinesNotWrittenTotal, "counter", "Captured lines the unit's log file could not take (a full disk); they reached the tail and live followers.");
        Each(text, units, UnitMetricNames.LogLinesNotWrittenTotal, u => u.Unit?.Log.LinesNotWritten);

        Family(text, UnitMetricNames.ProbeLatencySeconds, "gauge", "Duration of the unit's latest probe.");
        Family(text, UnitMetricNames.ProbeHealthy, "gauge", "1 when the unit's latest probe passed.");
        foreach (var (status, unit) in units)
        {
            if (unit?.LastProbe is { } probe)
            {
                var labels = new[] { ("unit", status.Name), ("probe", probe.Kind.ToString().ToLowerInvariant()) };
                Sample(text, UnitMetricNames.ProbeLatencySeconds, labels, probe.Latency.TotalSeconds);
                Sample(text, UnitMetricNames.ProbeHealthy, labels, probe.Healthy ? 1 : 0);
            }
        }

        Single(text, "pluginhost_events_published_total", "counter", "Events published on the host's stream.", events.Published);
        Single(text, "pluginhost_events_dropped_total", "counter", "Events dropped for subscribers that fell behind (slow SSE clients receive a gap event).", events.DroppedTotal);
        Single(text, "pluginhost_sse_clients", "gauge", "Connected event-stream clients.", sseClients);
        Family(text, "pluginhost_storage_failing", "gauge", "1 for each writer of the data folder failing now (code DISK_FULL when the disk is full).");
        foreach (var alert in alarm.Active())
        {
            Sample(text, "pluginhost_storage_failing", [("component", alert.Component), ("code", alert.Error.Code)], 1);
        }

        Family(text, "pluginhost_plugin_info", "gauge", "Loaded plugins, with their version.");
        foreach (var plugin in plugins.List())
        {
            Sample(text, "pluginhost_plugin_info", [("plugin", plugin.Name), ("version", plugin.Version ?? ""), ("state", plugin.State.ToString().ToLowerInvariant())], 1);
        }

        Single(text, "pluginhost_host_managed_heap_bytes", "gauge", "The host's managed heap.", GC.GetTotalMemory(false));
        // The host's own footprint, so that an operator can see it stays flat (a supervisor whose
        // memory grows is one of the failures this project exists to avoid).
        Single(text, "pluginhost_host_resident_bytes", "gauge", "The host process's resident memory (its units not included).", Environment.WorkingSet);
        Single(text, "pluginhost_host_gc_committed_bytes", "gauge", "Memory the host's garbage collector has committed (0 before its first collection).", GC.GetGCMemoryInfo().TotalCommittedBytes);
        Family(text, "pluginhost_host_gc_collections_total", "counter", "Garbage collections in the host, by generation.");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            Sample(text, "pluginhost_host_gc_collections_total", [("generation", generation.ToString(CultureInfo.InvariantCulture))], GC.CollectionCount(generation));
        }

        return text.ToString();
    }

    private static void Each(StringBuilder text, (UnitStatus Status, UnitSupervisor? Unit)[] units, string name, Func<(UnitStatus Status, UnitSupervisor? Unit), double?> value)
    {
        foreach (var unit in units)
        {
            if (value(unit) is { } v)
            {
                Sample(text, name, [("unit", unit.Status.Name)], v);
            }
        }
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    /// <summary>A family of one sample without labels: each name written once.</summary>
    private static void Single(StringBuilder text, string name, string type, string help, double value)
    {
        Family(text, name, type, help);
        Sample(text, name, [], value);
    }

    private static void Sample(StringBuilder text, string name, (string Name, string Value)[] labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{');
            text.AppendJoin(',', labels.Select(l => $"{l.Name}=\"{Escape(l.Value)}\""));
            text.Append('}');
        }

        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
