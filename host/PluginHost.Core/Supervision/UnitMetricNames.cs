namespace PluginHost.Core.Supervision;

/// <summary>
/// The host's own per-unit metric families on /metrics. One list for both of their uses: /metrics
/// writes them, and a plugin's gauge (published as <c>pluginhost_unit_{name}</c>) may not take one.
/// </summary>
internal static class UnitMetricNames
{
    public const string Prefix = "pluginhost_unit_";
    public const string State = Prefix + "state";
    public const string RestartsTotal = Prefix + "restarts_total";
    public const string UptimeSeconds = Prefix + "uptime_seconds";
    public const string CpuPercent = Prefix + "cpu_percent";
    public const string RssBytes = Prefix + "rss_bytes";
    public const string LogLinesTotal = Prefix + "log_lines_total";
    public const string LogLinesNotWrittenTotal = Prefix + "log_lines_not_written_total";
    public const string ProbeLatencySeconds = Prefix + "probe_latency_seconds";
    public const string ProbeHealthy = Prefix + "probe_healthy";

    /// <summary>The names above without the prefix: the gauge names a plugin may not use.</summary>
    public static IReadOnlySet<string> Reserved { get; } =
        new[] { State, RestartsTotal, UptimeSeconds, CpuPercent, RssBytes, LogLinesTotal, LogLinesNotWrittenTotal, ProbeLatencySeconds, ProbeHealthy }
            .Select(family => family[Prefix.Length..])
            .ToHashSet(StringComparer.Ordinal);
}
