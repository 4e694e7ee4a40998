using System.Text.Json;
using PluginHost.Contracts.Operations;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using PluginHost.Core.Supervision;

namespace PluginHost.Api;

// The shapes the API answers with (docs/api.md), named so that their JSON is source-generated
// (ApiJsonContext). Property names become camelCase.

/// <summary><c>GET /api/health</c>; <see cref="Threads"/> is null where /proc is not there to count them;
/// <see cref="Status"/> is "degraded" while <see cref="Alerts"/> is not empty (the host cannot write its data folder).</summary>
internal sealed record HealthView(string Status, string? Version, MemoryView Memory, int? Threads, IReadOnlyList<AlertView> Alerts);

/// <summary>A writer of the host's data folder that is failing now (storage_failed), with the coded error.</summary>
internal sealed record AlertView(string Component, string? Unit, string Path, string Code, string Message, string Remedy, DateTimeOffset Since)
{
    public static AlertView From(PluginHost.Core.Storage.StorageAlert alert) =>
        new(alert.Component, alert.Unit, alert.Path, alert.Error.Code, alert.Error.Message, alert.Error.Remedy, alert.Since);
}

/// <summary>One entry of <c>GET /api/alerts</c>: an alert the host raised (a port conflict, a unit that gave up…), oldest first.</summary>
internal sealed record RaisedAlertView(string Code, string? Unit, string Message, string Remedy, DateTimeOffset At)
{
    public static RaisedAlertView From(PluginHost.Core.Alerts.Alert alert) => new(alert.Code, alert.Unit, alert.Message, alert.Remedy, alert.At);
}

internal sealed record MemoryView(long RssBytes, long ManagedHeapBytes, long GcCommittedBytes);

/// <summary>One entry of <c>GET /api/plugins</c>.</summary>
internal sealed record PluginView(string Name, string? Version, string? Contracts, IReadOnlyList<string> Kinds, string State, int Generation, string? Error, string? Remedy)
{
    public static PluginView From(PluginStatus status) => new(status.Name, status.Version, status.ContractsVersion?.ToString(), status.Kinds,
        status.State.ToString().ToLowerInvariant(), status.Generation, status.Error, status.Remedy);
}

/// <summary><c>POST /api/plugins/{name}/reload</c> when the new version took over.</summary>
internal sealed record ReloadAnswer(bool Success, string Message, int UnitsHandedOver, int UnitsRestarted);

/// <summary>One entry of <c>GET /api/events/recent</c>.</summary>
internal sealed record RecentEvent(long Id, string Kind, string? Unit, string? Plugin, DateTimeOffset Timestamp, string? Summary, JsonElement Payload)
{
    public static RecentEvent From(SequencedEvent e) => new(e.Id, e.Event.Kind, e.Event.Unit, e.Event.Plugin, e.Event.Timestamp, e.Event.Summary, e.Event.Payload);
}

/// <summary>One operation a unit's plugin offers, with its parameters.</summary>
internal sealed record OperationView(string Name, string Description, bool LongRunning, IReadOnlyList<ParameterView> Parameters)
{
    public static OperationView From(UnitOperation op) =>
        new(op.Name, op.Description, op.LongRunning, op.Parameters.Select(p => new ParameterView(p.Name, p.Type.ToString().ToLowerInvariant(), p.Description, p.Required)).ToArray());
}

internal sealed record ParameterView(string Name, string Type, string Description, bool Required);

/// <summary><c>POST /api/units/{name}/ops/{op}</c> when the operation succeeded.</summary>
internal sealed record OperationAnswer(bool Success, string Message, JsonElement? Data, UnitStatus Status);
