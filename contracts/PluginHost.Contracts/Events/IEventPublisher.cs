using System.Text.Json.Nodes;

namespace PluginHost.Contracts.Events;

/// <summary>
/// Publishes events for one unit (from a driver's context) or one plugin. Payloads are JSON nodes so
/// that no plugin type is ever cached by a serializer outside the plugin's load context.
/// </summary>
public interface IEventPublisher
{
    void Publish(string kind, JsonObject? payload = null);
}
