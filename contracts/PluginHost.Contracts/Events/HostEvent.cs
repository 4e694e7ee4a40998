using System.Text.Json;

namespace PluginHost.Contracts.Events;

/// <summary>
/// An immutable event on the host's stream: a kind string (<c>unit_state</c>, <c>shimmy_ready</c>,
/// <c>python-server-status</c>, <c>plugin_reloaded</c>…), the unit it concerns (null for host-wide
/// events), the plugin that published it (null for the host), when, and a JSON payload.
/// </summary>
public sealed record HostEvent(string Kind, string? Unit, string? Plugin, DateTimeOffset Timestamp, JsonElement Payload)
{
    /// <summary>One line saying what it means, by the host or the publishing plugin (since 1.5); null when none was given.</summary>
    public string? Summary { get; init; }
}
