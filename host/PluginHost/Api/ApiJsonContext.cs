using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using PluginHost.Core.Supervision;

namespace PluginHost.Api;

/// <summary>
/// Source-generated JSON for what the API writes: no accessors emitted and no converters built by
/// reflection at run time (answering <c>/api/health</c> by reflection alone kept ≈ 1.5 MB resident).
/// The values a problem's extensions hold are listed too; a type missing from this list still
/// serializes, by reflection (<see cref="WithReflectionFallback"/>).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(HealthView))]
[JsonSerializable(typeof(AlertView))]
[JsonSerializable(typeof(RaisedAlertView[]))]
[JsonSerializable(typeof(IReadOnlyList<UnitStatus>))]
[JsonSerializable(typeof(UnitCommandResult))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(PluginView[]))]
[JsonSerializable(typeof(ReloadAnswer))]
[JsonSerializable(typeof(RecentEvent[]))]
[JsonSerializable(typeof(OperationView[]))]
[JsonSerializable(typeof(OperationAnswer))]
[JsonSerializable(typeof(LogStream.LineView))]
[JsonSerializable(typeof(LogStream.LineView[]))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>The generated metadata first, reflection only for a type it does not know.</summary>
    public static JsonSerializerOptions WithReflectionFallback { get; } = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(Default, new DefaultJsonTypeInfoResolver()),
    };
}
