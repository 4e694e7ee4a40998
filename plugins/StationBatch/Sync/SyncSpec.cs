using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.StationBatch.Sync;

/// <summary>
/// <code>
/// kind: station-sync
/// env:
///   STATION_BACKEND_API_KEY: …          # secret (the manifest's env: is secret by default)
/// spec:
///   target: http                        # or postgres
///   url: http://neurohub.local:3000     # http: the backend (POST /api/station/sync)
///   apiKeyEnv: STATION_BACKEND_API_KEY  # http: the variable holding the API key (optional)
///   connectionEnv: STATION_RESULTS_DB   # postgres: the variable holding the connection string
///   station: line1                      # the station's id in the HTTP body (default: the machine's name)
///   interval: 30s                       # between rounds when nothing nudges (the seed's sync_interval)
///   timeout: 10s                        # per attempt, and for the flush at stop
///   batchSize: 100
///   program: ../artifacts/station-sync  # the built sender (this is the default)
/// </code>
/// Secrets are named, never written here: the sender reads them from its environment.
/// </summary>
internal sealed record SyncSpec(string Target, string? Url, string? ApiKeyEnv, string? ConnectionEnv, string Station, TimeSpan Interval, TimeSpan Timeout, int BatchSize, string? Program)
{
    public const string DefaultProgram = "../artifacts/station-sync";

    public static (SyncSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var target = reader.OneOf("target", "http", "postgres");
        if (target is null && !reader.Has("target"))
        {
            reader.ReportMissing("target", "http or postgres");
        }

        var url = reader.String("url");
        if (target == "http")
        {
            if (url is null)
            {
                reader.ReportMissing("url", "the backend's address, e.g. http://neurohub.local:3000");
            }
            else if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                reader.Report(mapping["url"]!, $"\"{url}\"", "an http:// or https:// address");
            }
        }

        var connectionEnv = reader.String("connectionEnv");
        if (target == "postgres" && connectionEnv is null)
        {
            reader.ReportMissing("connectionEnv", "the environment variable (in env:) holding the PostgreSQL connection string");
        }

        var spec = new SyncSpec(target ?? "http", url, reader.String("apiKeyEnv"), connectionEnv,
            reader.String("station") is { Length: > 0 } station ? station : Environment.MachineName,
            reader.Duration("interval", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromSeconds(30),
            reader.Duration("timeout", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromSeconds(10),
            reader.Int("batchSize", 1, 10_000) ?? 100, reader.String("program"));
        reader.RejectUnknownKeys();
        return (spec, reader.Problems);
    }
}
