using System.Text.Json;
using PluginHost.Contracts.Operations;

namespace PluginHost.Core.Supervision;

/// <summary>Checks an operation's JSON arguments against the parameters it declares, before the plugin sees them.</summary>
internal static class OperationArguments
{
    /// <returns>Every problem found (empty when the arguments fit).</returns>
    public static IReadOnlyList<string> Check(UnitOperation operation, JsonElement arguments)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (arguments.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            arguments = JsonDocument.Parse("{}").RootElement;
        }

        if (arguments.ValueKind != JsonValueKind.Object)
        {
            return [$"the arguments must be a JSON object, not {Describe(arguments.ValueKind)}"];
        }

        var problems = new List<string>();
        var declared = operation.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var property in arguments.EnumerateObject())
        {
            if (!declared.TryGetValue(property.Name, out var parameter))
            {
                var known = declared.Count == 0 ? "it takes no arguments" : "it takes " + string.Join(", ", declared.Keys);
                problems.Add($"\"{property.Name}\" is not an argument of {operation.Name} ({known})");
            }
            else if (!Fits(parameter.Type, property.Value))
            {
                problems.Add($"\"{property.Name}\" must be {Expected(parameter.Type)}, found {Describe(property.Value.ValueKind)}");
            }
        }

        foreach (var parameter in operation.Parameters.Where(p => p.Required && !arguments.TryGetProperty(p.Name, out _)))
        {
            problems.Add($"\"{parameter.Name}\" is required ({Expected(parameter.Type)}: {parameter.Description})");
        }

        return problems;
    }

    private static bool Fits(OperationParameterType type, JsonElement value) => type switch
    {
        OperationParameterType.String => value.ValueKind == JsonValueKind.String,
        OperationParameterType.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        OperationParameterType.Number => value.ValueKind == JsonValueKind.Number,
        OperationParameterType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        OperationParameterType.Object => value.ValueKind == JsonValueKind.Object,
        OperationParameterType.Array => value.ValueKind == JsonValueKind.Array,
        _ => false,
    };

    private static string Expected(OperationParameterType type) => type switch
    {
        OperationParameterType.Integer => "an integer",
        OperationParameterType.Object => "an object",
        OperationParameterType.Array => "an array",
        _ => "a " + type.ToString().ToLowerInvariant(),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Null or JsonValueKind.Undefined => "null",
        _ => "a " + kind.ToString().ToLowerInvariant(),
    };
}
