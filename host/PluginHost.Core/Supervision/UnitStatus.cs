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
    PluginRef? Plugin,
    UnitCapabilities Capabilities);

/// <summary>The plugin of a unit's kind; <paramref name="Panel"/> is the URL of its dashboard panel's module, when it has one.</summary>
internal sealed record PluginRef(string Name, string Version, string? Panel = null);

/// <summary>
/// What a unit offers besides the usual controls: a terminal (the host owns a pty for it) and the
/// links its plugin gives (since contracts 1.5). The dashboard draws from this, never from a kind's name.
/// </summary>
internal sealed record UnitCapabilities(bool Terminal, IReadOnlyList<UnitLink> Links)
{
    public static UnitCapabilities None { get; } = new(false, []);
}

/// <summary>The answer to start / stop / restart: <c>{success, message, status}</c>.</summary>
internal sealed record UnitCommandResult(bool Success, string Message, UnitStatus Status);
