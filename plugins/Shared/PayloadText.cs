using System.Text.Json;

namespace PluginHost.Plugins;

/// <summary>
/// Reads an event payload's fields as text, for a plugin's one-line event summaries. One source,
/// compiled into each plugin that needs it (plugins share nothing but the contracts).
/// </summary>
internal static class PayloadText
{
    public static bool Has(JsonElement payload, string name) =>
        payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public static string Of(JsonElement payload, string name) => Has(payload, name)
        ? payload.GetProperty(name) is { ValueKind: JsonValueKind.String } text ? text.GetString() ?? "" : payload.GetProperty(name).GetRawText()
        : "";
}
