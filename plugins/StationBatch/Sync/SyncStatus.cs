using System.Globalization;
using System.Text.Json.Nodes;
using PluginHost.Plugins.StationBatch.Results;

namespace PluginHost.Plugins.StationBatch.Sync;

/// <summary>The sync queue and the backend as the results database says now: what the station-sync unit reports.</summary>
internal sealed record SyncStatus(long Depth, double OldestAgeSeconds, bool Connected, string? LastSuccessAt, string? LastError, long SentTotal, string? Target)
{
    public static SyncStatus Read(string database, TimeProvider time)
    {
        using var db = ResultsDatabase.Open(database);
        var depth = db.ScalarInt64("SELECT COUNT(*) FROM sync_queue");
        double oldest = 0;
        using (var first = db.Prepare("SELECT created_at FROM sync_queue ORDER BY id LIMIT 1"))
        {
            if (first.Step() && DateTime.TryParse(first.Text(0), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var created))
            {
                oldest = Math.Max(0, (time.GetUtcNow().UtcDateTime - created).TotalSeconds);
            }
        }

        using var state = db.Prepare("SELECT connected, last_success_at, last_error, sent_total, target FROM sync_state WHERE id = 1");
        return state.Step()
            ? new SyncStatus(depth, oldest, state.Int64(0) == 1, state.Text(1), state.Text(2), state.Int64(3), state.Text(4))
            : new SyncStatus(depth, oldest, false, null, null, 0, null);
    }

    public JsonObject ToJson() => new()
    {
        ["queueDepth"] = Depth,
        ["oldestAgeSeconds"] = Math.Round(OldestAgeSeconds, 1),
        ["backendConnected"] = Connected,
        ["lastSuccessAt"] = LastSuccessAt,
        ["lastError"] = LastError,
        ["sentTotal"] = SentTotal,
        ["target"] = Target,
    };
}
