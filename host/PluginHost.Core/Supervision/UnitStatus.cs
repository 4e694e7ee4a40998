using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision;

/// <summary>A unit's status record (DESIGN.md §7): what the API, CLI and dashboard show.</summary>
internal sealed record UnitStatus(
    string Name,
    string Kind,
    string State,
    string? Reason,
    bool Enabled,
    int? Pid,
    IReadOnlyDictionary<string, int> Ports,
    DateTimeOffset? StartedAt,
    double? UptimeSeconds,
    int Restarts,
    double? CpuPercent,
    long? RssBytes,
    IReadOnlyDictionary<string, double>? Gauges,
    UnitError? LastError,
    PluginRef? Plugin);

internal sealed record PluginRef(string Name, string Version);

/// <summary>The answer to start / stop / restart: <c>{success, message, status}</c>.</summary>
internal sealed record UnitCommandResult(bool Success, string Message, UnitStatus Status);

/// <summary>One probe run: which, whether it passed, how long it took.</summary>
internal sealed record ProbeObservation(PluginHost.Contracts.Units.ProbeKind Kind, bool Healthy, TimeSpan Latency);
