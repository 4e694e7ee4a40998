using System.Text.Json;

namespace PluginHost.Contracts.Events;

/// <summary>
/// An immutable event on the host's stream: a kind string (<c>unit_state</c>, <c>shimmy_ready</c>,
/// <c>python-server-status</c>, <c>plugin_reloaded</c>…), the unit it concerns (null for host-wide
/// events), the plugin that published it (null for the host), when, and a JSON payload.
/// </summary>
public sealed record HostEvent(string Kind, string? Unit, string? Plugin, DateTimeOffset Timestamp, JsonElement Payload);
