using System.Globalization;
using System.Text.Json.Nodes;

namespace PluginHost.Station.Worker.Sequences;

/// <summary>A run's parameters: the batch's, overridden by START_SEQUENCE's, checked against the package's declarations.</summary>
internal static class ParameterBinder
{
    public static (IReadOnlyDictionary<string, JsonNode?> Values, IReadOnlyList<string> Problems) Bind(Sequence sequence, JsonObject batch, JsonObject? run)
    {
        var given = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, value) in batch)
        {
            given[name] = value?.DeepClone();
        }

        foreach (var (name, value) in run ?? [])
        {
            given[name] = value?.DeepClone();
        }

        var problems = new List<string>();
        foreach (var name in given.Keys.Where(n => !sequence.Parameters.Any(p => p.Name == n)))
        {
            problems.Add($"parameter \"{name}\" is not declared by {sequence.Name} (declared: {string.Join(", ", sequence.Parameters.Select(p => p.Name))})");
        }

        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var parameter in sequence.Parameters)
        {
            var value = given.TryGetValue(parameter.Name, out var v) ? v : parameter.Default is null ? null : JsonValue.Create(parameter.Default);
            if (value is null)
            {
                problems.Add($"parameter \"{parameter.Name}\" has no value and no default");
                continue;
            }

            if (Check(parameter, value) is { } problem)
            {
                problems.Add(problem);
                continue;
            }

            values[parameter.Name] = Normalize(parameter, value);
        }

        return (values, problems);
    }

    private static string? Check(SequenceParameter p, JsonNode value)
    {
        if (p.Type is ParameterType.String)
        {
            return null;
        }

        if (p.Type is ParameterType.Boolean)
        {
            return AsBool(value) is null ? $"parameter \"{p.Name}\" is a boolean (found {value.ToJsonString()})" : null;
        }

        if (AsNumber(value) is not { } n || (p.Type == ParameterType.Integer && n != Math.Floor(n)))
        {
            return $"parameter \"{p.Name}\" is {(p.Type == ParameterType.Integer ? "an integer" : "a number")} (found {value.ToJsonString()})";
        }

        return (p.Min is { } min && n < min) || (p.Max is { } max && n > max)
            ? $"parameter \"{p.Name}\" = {n.ToString(CultureInfo.InvariantCulture)} is outside [{p.Min?.ToString(CultureInfo.InvariantCulture) ?? "-"}, {p.Max?.ToString(CultureInfo.InvariantCulture) ?? "-"}]{(p.Units is null ? "" : " " + p.Units)}"
            : null;
    }

    private static JsonNode Normalize(SequenceParameter p, JsonNode value) => p.Type switch
    {
        ParameterType.Number or ParameterType.Integer => JsonValue.Create(AsNumber(value)!.Value),
        ParameterType.Boolean => JsonValue.Create(AsBool(value)!.Value),
        _ => JsonValue.Create(value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString()),
    };

    private static double? AsNumber(JsonNode value) => value switch
    {
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    private static bool? AsBool(JsonNode value) => value switch
    {
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) && bool.TryParse(s, out var b) => b,
        _ => null,
    };
}
