using System.Text.Json.Nodes;

namespace PluginHost.Station.Sync;

/// <summary>Where the results are sent (the unit's <c>spec.target</c>).</summary>
internal enum SyncTargetKind
{
    Http,
    Postgres,
}

/// <summary>
/// What one sync process does, read from the JSON file the station-sync kind writes:
/// <c>{database, station, target, url, apiKeyEnv, connectionEnv, intervalMs, timeoutMs, batchSize}</c>.
/// Secrets are never in this file: the API key and the connection string are read from the
/// environment variables it names (the manifest's <c>env:</c>, secret by default).
/// </summary>
internal sealed record SyncSettings(
    string Database,
    string Station,
    SyncTargetKind Target,
    string? Url,
    string? ApiKeyEnv,
    string? ConnectionEnv,
    TimeSpan Interval,
    TimeSpan Timeout,
    int BatchSize)
{
    /// <exception cref="InvalidOperationException">The file is not such an object.</exception>
    public static SyncSettings Load(string path)
    {
        var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidOperationException($"{path} is not a JSON object");
        string Required(string name) => json[name]?.GetValue<string>() is { Length: > 0 } value ? value : throw new InvalidOperationException($"{path}: \"{name}\" is missing");
        var target = Required("target") switch
        {
            "http" => SyncTargetKind.Http,
            "postgres" => SyncTargetKind.Postgres,
            var other => throw new InvalidOperationException($"{path}: target \"{other}\" is http or postgres"),
        };
        return new SyncSettings(Required("database"), Required("station"), target, json["url"]?.GetValue<string>(), json["apiKeyEnv"]?.GetValue<string>(),
            json["connectionEnv"]?.GetValue<string>(), TimeSpan.FromMilliseconds(json["intervalMs"]?.GetValue<int>() ?? 30_000),
            TimeSpan.FromMilliseconds(json["timeoutMs"]?.GetValue<int>() ?? 10_000), json["batchSize"]?.GetValue<int>() ?? 100);
    }

    /// <summary>The value of an environment variable the settings name (null: none named, or not set).</summary>
    public static string? Secret(string? variable) => variable is null ? null : Environment.GetEnvironmentVariable(variable);
}
