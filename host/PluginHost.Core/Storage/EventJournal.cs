using System.Text.Json;
using Microsoft.Data.Sqlite;
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

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private readonly EventBus.Subscription _subscription;
    private readonly Task _writer;
    private long _written;

    public EventJournal(string path, EventBus bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _connection = WalDatabase.Open(path, """
            CREATE TABLE IF NOT EXISTS events (
                id INTEGER PRIMARY KEY, kind TEXT NOT NULL, unit TEXT, plugin TEXT, at TEXT NOT NULL, payload TEXT NOT NULL);
            """);
        bus.ContinueAfter(LastId());
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
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COALESCE(MAX(id), 0) FROM events";
            return (long)command.ExecuteScalar()!;
        }
    }

    /// <summary>Journaled events after <paramref name="afterId"/>, oldest first, optionally of one unit.</summary>
    public IReadOnlyList<SequencedEvent> After(long afterId, string? unit, int limit)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = unit is null
                ? "SELECT id, kind, unit, plugin, at, payload FROM events WHERE id > $after ORDER BY id LIMIT $limit"
                : "SELECT id, kind, unit, plugin, at, payload FROM events WHERE id > $after AND unit = $unit ORDER BY id LIMIT $limit";
            command.Parameters.AddWithValue("$after", afterId);
            command.Parameters.AddWithValue("$limit", limit);
            if (unit is not null)
            {
                command.Parameters.AddWithValue("$unit", unit);
            }

            using var reader = command.ExecuteReader();
            var list = new List<SequencedEvent>();
            while (reader.Read())
            {
                using var payload = JsonDocument.Parse(reader.GetString(5));
                list.Add(new SequencedEvent(reader.GetInt64(0), new HostEvent(
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    DateTimeOffset.Parse(reader.GetString(4), System.Globalization.CultureInfo.InvariantCulture),
                    payload.RootElement.Clone())));
            }

            return list;
        }
    }

    /// <summary>The id of the oldest journaled event (0 when empty): anything older is gone for good.</summary>
    public long FirstId()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COALESCE(MIN(id), 0) FROM events";
            return (long)command.ExecuteScalar()!;
        }
    }

    private async Task WriteAsync()
    {
        var batch = new List<SubscribedEvent>();
        try
        {
            while (await _subscription.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (batch.Count < 1000 && _subscription.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                Insert(batch);
                batch.Clear();
            }
        }
        catch (Exception ex) when (ex is SqliteException or ObjectDisposedException or InvalidOperationException)
        {
            // The disk failed or the host is closing: supervision goes on; resumption will report a gap.
        }
    }

    private void Insert(List<SubscribedEvent> batch)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO events (id, kind, unit, plugin, at, payload) VALUES ($id, $kind, $unit, $plugin, $at, $payload)";
            var id = command.Parameters.Add("$id", SqliteType.Integer);
            var kind = command.Parameters.Add("$kind", SqliteType.Text);
            var unit = command.Parameters.Add("$unit", SqliteType.Text);
            var plugin = command.Parameters.Add("$plugin", SqliteType.Text);
            var at = command.Parameters.Add("$at", SqliteType.Text);
            var payload = command.Parameters.Add("$payload", SqliteType.Text);
            foreach (var e in batch)
            {
                id.Value = e.Id;
                kind.Value = e.Event.Kind;
                unit.Value = (object?)e.Event.Unit ?? DBNull.Value;
                plugin.Value = (object?)e.Event.Plugin ?? DBNull.Value;
                at.Value = e.Event.Timestamp.ToString("O");
                payload.Value = e.Event.Payload.GetRawText();
                command.ExecuteNonQuery();
            }

            _written += batch.Count;
            if (_written >= 10_000)
            {
                _written = 0;
                using var trim = _connection.CreateCommand();
                trim.CommandText = "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - $keep";
                trim.Parameters.AddWithValue("$keep", Retained);
                trim.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    /// <summary>Waits until the events through <paramref name="throughId"/> are on disk (for tests).</summary>
    public async Task FlushAsync(long throughId, CancellationToken cancellationToken)
    {
        while (LastId() < throughId && !_writer.IsCompleted)
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription.Dispose();
        await _writer.ConfigureAwait(false);
        _connection.Dispose();
    }
}
