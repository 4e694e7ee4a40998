using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Events;

namespace PluginHost.Core.Events;

/// <summary>Publishes on the bus on behalf of one unit and/or plugin (null for the host itself).</summary>
internal sealed class EventPublisher(EventBus bus, TimeProvider time, string? unit, string? plugin) : IEventPublisher
{
    private static readonly JsonElement EmptyPayload = JsonDocument.Parse("{}").RootElement.Clone();

    public void Publish(string kind, JsonObject? payload = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);

        // JsonNode → JsonElement through System.Text.Json's own types only: no plugin type is cached.
        var element = payload is null ? EmptyPayload : JsonSerializer.SerializeToElement(payload, HostJsonContext.Default.JsonObject);
        bus.Publish(new HostEvent(kind, unit, plugin, time.GetUtcNow(), element));
    }
}
