using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Events;

namespace PluginHost.Core.Events;

/// <summary>
/// Publishes on the bus on behalf of one unit and/or plugin (null for the host itself), each event
/// with its one-line summary: from <paramref name="summarize"/> (a plugin's own wording), else the
/// host's, else what the payload says of itself.
/// </summary>
internal sealed class EventPublisher(EventBus bus, TimeProvider time, string? unit, string? plugin, Func<string, JsonElement, string?>? summarize = null) : IEventPublisher
{
    /// <summary>
    /// The largest payload an event carries. Every event is kept in memory (ring, subscriber queues),
    /// in the event journal and on every SSE stream: one of 18 MB (a manifest of 90,000 problems) cost
    /// that much each save in every one of them.
    /// </summary>
    public const int MaxPayloadBytes = 64 * 1024;

    private const int PreviewChars = 1024;
    private static readonly JsonElement EmptyPayload = JsonDocument.Parse("{}").RootElement.Clone();

    public void Publish(string kind, JsonObject? payload = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);

        // JsonNode → JsonElement through System.Text.Json's own types only: no plugin type is cached.
        var element = EmptyPayload;
        if (payload is not null)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(payload, HostJsonContext.Default.JsonObject);
            element = bytes.Length <= MaxPayloadBytes ? Parse(bytes) : Truncated(bytes);
        }

        bus.Publish(new HostEvent(kind, unit, plugin, time.GetUtcNow(), element) { Summary = Summarize(kind, element) });
    }

    private string? Summarize(string kind, JsonElement payload)
    {
        string? said = null;
        try
        {
            said = summarize?.Invoke(kind, payload);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A plugin's wording that fails costs its wording, not the event.
        }

        return Cut(said ?? EventSummaries.Host(kind, payload) ?? EventSummaries.Generic(payload));
    }

    /// <summary>A summary is one line, of reasonable length.</summary>
    private static string? Cut(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var line = text.ReplaceLineEndings(" ");
        return line.Length <= MaxSummaryChars ? line : line[..MaxSummaryChars] + "…";
    }

    public const int MaxSummaryChars = 500;

    private static JsonElement Parse(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes);
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>What is left of a payload over the limit: that it was cut, its size, and its beginning as text.</summary>
    private static JsonElement Truncated(byte[] bytes)
    {
        var preview = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, PreviewChars * 4));
        var cut = new JsonObject
        {
            ["truncated"] = true,
            ["bytes"] = bytes.Length,
            ["limit"] = MaxPayloadBytes,
            ["preview"] = preview.Length > PreviewChars ? preview[..PreviewChars] : preview,
        };
        return Parse(JsonSerializer.SerializeToUtf8Bytes(cut, HostJsonContext.Default.JsonObject));
    }
}
