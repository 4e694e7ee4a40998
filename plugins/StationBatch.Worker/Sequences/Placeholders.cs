using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PluginHost.Station.Worker.Sequences;

/// <summary><c>${name}</c> in a step's command, replaced by the run's parameter value.</summary>
internal static partial class Placeholders
{
    public static IEnumerable<string> Names(string text) => Pattern().Matches(text).Select(m => m.Groups[1].Value);

    public static string Resolve(string text, IReadOnlyDictionary<string, JsonNode?> values) =>
        Pattern().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var v) ? Text(v) : m.Value);

    private static string Text(JsonNode? value) => value switch
    {
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString("G", CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "1" : "0",
        null => "",
        _ => value.ToString(),
    };

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Pattern();
}
