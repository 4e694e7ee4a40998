using System.Globalization;
using PluginHost.Plugins.StationBatch.Results;

namespace PluginHost.Station.Sync;

/// <summary>One row of <c>sync_queue</c>: a result row to send, with the key a backend takes it once by.</summary>
internal sealed record SyncItem(long Id, string Entity, string EntityId, string Action, string Payload, string Key, int RetryCount);

/// <summary>
/// The sender's side of the results database: the head of <c>sync_queue</c> in order (so an
/// execution's rows go in the order they were written), rows removed only once the backend took
/// them, a failure counted on every row of the attempt (<c>retry_count</c>, the seed's) and kept in
/// <c>sync_state</c> with what the host shows (connected, last error, last success).
/// </summary>
internal sealed class SyncQueue(SqliteFile db, string target, TimeProvider time) : IDisposable
{
    public IReadOnlyList<SyncItem> Head(int count)
    {
        using var query = db.Prepare("SELECT id, entity_type, entity_id, action, payload, idempotency_key, retry_count FROM sync_queue ORDER BY id LIMIT $n").Bind("$n", count);
        var items = new List<SyncItem>();
        while (query.Step())
        {
            items.Add(new SyncItem(query.Int64(0), query.Text(1)!, query.Text(2)!, query.Text(3)!, query.Text(4)!, query.Text(5)!, (int)query.Int64(6)));
        }

        return items;
    }

    /// <summary>The backend took <paramref name="items"/>: they leave the queue, and the executions they finished are marked synced.</summary>
    public void Sent(IReadOnlyList<SyncItem> items)
    {
        var now = Now();
        InTransaction(() =>
        {
            using var delete = db.Prepare("DELETE FROM sync_queue WHERE id = $id");
            using var synced = db.Prepare("UPDATE execution_results SET synced_at = $at WHERE id = $e");
            foreach (var item in items)
            {
                delete.Reset().Bind("$id", item.Id).Run();
                if (item is { Entity: "execution", Action: "update" })
                {
                    synced.Reset().Bind("$at", now).Bind("$e", item.EntityId).Run();
                }
            }

            State(connected: true, error: null, success: true, sent: items.Count);
        });
    }

    /// <summary>The backend did not take <paramref name="items"/>: each stays, its retry_count one higher, with the reason.</summary>
    public void Failed(IReadOnlyList<SyncItem> items, string error)
    {
        InTransaction(() =>
        {
            using var failed = db.Prepare("UPDATE sync_queue SET retry_count = retry_count + 1, last_error = $error WHERE id = $id");
            foreach (var item in items)
            {
                failed.Reset().Bind("$error", error).Bind("$id", item.Id).Run();
            }

            State(connected: false, error: error, success: false, sent: 0);
        });
    }

    /// <summary>Nothing to send: the backend's state as the last attempt left it, with this attempt's time.</summary>
    public void Idle() => InTransaction(() => State(connected: null, error: null, success: null, sent: 0));

    public long Depth() => db.ScalarInt64("SELECT COUNT(*) FROM sync_queue");

    public void Dispose() => db.Dispose();

    private void State(bool? connected, string? error, bool? success, int sent)
    {
        var now = Now();
        using var upsert = db.Prepare("""
            INSERT INTO sync_state (id, target, connected, last_attempt_at, last_success_at, last_error, sent_total)
            VALUES (1, $target, COALESCE($connected, 0), $now, CASE WHEN $success = 1 THEN $now END, $error, $sent)
            ON CONFLICT (id) DO UPDATE SET
                target = $target,
                connected = COALESCE($connected, connected),
                last_attempt_at = $now,
                last_success_at = CASE WHEN $success = 1 THEN $now ELSE last_success_at END,
                last_error = CASE WHEN $success = 1 THEN NULL WHEN $success = 0 THEN $error ELSE last_error END,
                sent_total = sent_total + $sent
            """);
        upsert.Bind("$target", target).Bind("$connected", connected).Bind("$now", now).Bind("$success", success).Bind("$error", error).Bind("$sent", sent).Run();
    }

    private string Now() => time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private void InTransaction(Action write) => db.InTransaction(write);
}
