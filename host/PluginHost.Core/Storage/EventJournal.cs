using System.Text.Json;
using PluginHost.Contracts.Events;
using PluginHost.Core.Events;

namespace PluginHost.Core.Storage;

/// <summary>
/// Every event of the bus, kept in <c>events.db</c> (SQLite, WAL) so that an SSE client that
/// reconnects with <c>Last-Event-ID</c> — after a network hiccup, a slow spell or a host restart —
/// gets what it missed. Written in batches by a background task that drains its own bus
/// subscription, so publishing (the supervision path) never waits for the disk. Keeps the newest
/// <see cref="Retained"/> events.
/// </summary>
internal sealed class EventJournal : IAsyncDisposable
{
    public const int Retained = 100_000;
    private const int QueueCapacity = 65_536;

    private readonly SqliteDatabase _database;
    private readonly Lock _gate = new();
    private readonly EventBus.Subscription _subscription;
    private readonly Task _writer;
    private readonly TimeProvider _time;
    private readonly StorageComponent _health;
    private readonly CancellationTokenSource _closing = new();
    private TaskCompletionSource _batchWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _writtenThrough;
    private long _written;

    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    public EventJournal(string path, EventBus bus, TimeProvider? time = null, StorageComponent? health = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _time = time ?? TimeProvider.System;
        _health = health ?? StorageComponent.Unwatched("event journal", path);
        _database = SqliteDatabase.OpenWal(path, """
            CREATE TABLE IF NOT EXISTS events (
                id INTEGER PRIMARY KEY, kind TEXT NOT NULL, unit TEXT, plugin TEXT, at TEXT NOT NULL, payload TEXT NOT NULL, summary TEXT);
            """);
        if (!_database.Query("SELECT name FROM pragma_table_info('events')", row => row.GetString(0)).Contains("summary"))
        {
            _database.ExecuteScript("ALTER TABLE events ADD COLUMN summary TEXT"); // a journal of an earlier host
        }

        _writtenThrough = LastId();
        bus.ContinueAfter(_writtenThrough);
        _subscription = bus.Subscribe(QueueCapacity);
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Events that could not be journaled because the writer fell behind by more than its queue.</summary>
    public long Dropped => _subscription.Dropped;

    /// <summary>The id of the newest journaled event (0 when empty).</summary>
    public long LastId()
    {
        lock (_gate)
        {
            return _database.Query("SELECT COALESCE(MAX(id), 0) FROM events", row => row.GetInt64(0))[0];
        }
    }

    /// <summary>Journaled events after <paramref name="afterId"/>, oldest first, optionally of one unit.</summary>
    public IReadOnlyList<SequencedEvent> After(long afterId, string? unit, int limit)
    {
        lock (_gate)
        {
            return _database.Query(unit is null
                    ? "SELECT id, kind, unit, plugin, at, payload, summary FROM events WHERE id > $after ORDER BY id LIMIT $limit"
                    : "SELECT id, kind, unit, plugin, at, payload, summary FROM events WHERE id > $after AND unit = $unit ORDER BY id LIMIT $limit",
                Read, unit is null ? [("$after", afterId), ("$limit", limit)] : [("$after", afterId), ("$limit", limit), ("$unit", unit)]);
        }
    }

    private static SequencedEvent Read(SqliteRow row)
    {
        using var payload = JsonDocument.Parse(row.GetString(5));
        return new SequencedEvent(row.GetInt64(0), new HostEvent(
            row.GetString(1),
            row.IsNull(2) ? null : row.GetString(2),
            row.IsNull(3) ? null : row.GetString(3),
            DateTimeOffset.Parse(row.GetString(4), System.Globalization.CultureInfo.InvariantCulture),
            payload.RootElement.Clone()) { Summary = row.IsNull(6) ? null : row.GetString(6) });
    }

    /// <summary>The id of the oldest journaled event (0 when empty): anything older is gone for good.</summary>
    public long FirstId()
    {
        lock (_gate)
        {
            return _database.Query("SELECT COALESCE(MIN(id), 0) FROM events", row => row.GetInt64(0))[0];
        }
    }

    private async Task WriteAsync()
    {
        var batch = new List<SubscribedEvent>();
        var droppedBefore = 0L;
        try
        {
            while (await _subscription.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (batch.Count < 1000 && _subscription.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    Insert(batch);
                }
                catch (StorageException ex)
                {
                    // The disk refuses (full): keep the batch and try again; meanwhile the subscription
                    // queues what follows, and what overflows it is counted — a resuming client is told
                    // of the hole by an exact gap event.
                    if (!_health.IsFailing)
                    {
                        droppedBefore = _subscription.Dropped;
                    }

                    _health.Failed(ex);
                    if (_closing.IsCancellationRequested)
                    {
                        return; // what the disk would not take is lost with this host, as after a crash
                    }

                    await Task.Delay(RetryInterval, _time, _closing.Token).ConfigureAwait(false);
                    continue;
                }

                Written(batch[^1].Id);
                batch.Clear();
                if (_health.IsFailing)
                {
                    var lost = _subscription.Dropped - droppedBefore;
                    _health.Succeeded(lost == 0 ? "nothing (every event waited and is now journaled)" : $"{lost} event(s) not journaled (older than the {QueueCapacity}-event queue)");
                }
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The host is closing.
        }
    }

    private void Insert(List<SubscribedEvent> batch)
    {
        lock (_gate)
        {
            _database.ExecuteScript("BEGIN");
            try
            {
                using (var insert = _database.Prepare("INSERT OR REPLACE INTO events (id, kind, unit, plugin, at, payload, summary) VALUES ($id, $kind, $unit, $plugin, $at, $payload, $summary)"))
                {
                    foreach (var e in batch)
                    {
                        insert.Bind(("$id", e.Id), ("$kind", e.Event.Kind), ("$unit", e.Event.Unit), ("$plugin", e.Event.Plugin),
                            ("$at", e.Event.Timestamp.ToString("O")), ("$payload", e.Event.Payload.GetRawText()), ("$summary", e.Event.Summary));
                        insert.Run();
                    }
                }

                _written += batch.Count;
                if (_written >= 10_000)
                {
                    _written = 0;
                    _database.Execute("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - $keep", ("$keep", Retained));
                }

                _database.ExecuteScript("COMMIT");
            }
            catch (StorageException)
            {
                TryRollback();
                throw;
            }
        }
    }

    private void TryRollback()
    {
        try
        {
            _database.ExecuteScript("ROLLBACK");
        }
        catch (StorageException)
        {
            // The failure that got us here is the one to report.
        }
    }

    /// <summary>Waits until the events through <paramref name="throughId"/> are on disk (a test, a replay that must include them).</summary>
    public async Task FlushAsync(long throughId, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Read the signal before the check: a batch written in between completes this one.
            var written = Volatile.Read(ref _batchWritten).Task;
            if (Interlocked.Read(ref _writtenThrough) >= throughId || _writer.IsCompleted)
            {
                return;
            }

            await Task.WhenAny(written, _writer).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Marks a batch as on disk and wakes whoever waits for it.</summary>
    private void Written(long throughId)
    {
        Interlocked.Exchange(ref _writtenThrough, throughId);
        Interlocked.Exchange(ref _batchWritten, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        _subscription.Dispose();
        await _closing.CancelAsync().ConfigureAwait(false);
        await _writer.ConfigureAwait(false);
        _database.Dispose();
        _closing.Dispose();
    }
}
