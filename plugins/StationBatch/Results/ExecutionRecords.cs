using System.Text.Json.Nodes;
using PluginHost.Station.Protocol;

namespace PluginHost.Plugins.StationBatch.Results;

/// <summary>
/// One batch master's durable record of its executions, in the station's results database
/// (<see cref="ResultsDatabase"/>). An event is taken only if it is the next of its execution; a
/// commit writes every event taken since the last one — the exact event, the result rows it makes
/// (<see cref="ResultRows"/>) and its <c>sync_queue</c> rows — in one transaction, before the master
/// acknowledges any of them. So an acknowledged event survives a host crash, and one sent again is
/// acknowledged without being taken twice. Not thread-safe: the master's poller thread alone uses it;
/// each master has its own connection (SQLite serializes the writers of one file).
/// </summary>
internal sealed class ExecutionRecords : IDisposable
{
    private readonly SqliteFile _connection;
    private readonly ResultRows _rows;
    private readonly string _batch;
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly List<Taken> _pending = [];
    private readonly TimeProvider _time;

    /// <param name="station">The station's id, on every row, so that a fleet's results stay apart in one central database.</param>
    public ExecutionRecords(string databasePath, string station, string batch, TimeProvider time)
    {
        (DatabasePath, _batch, _time) = (databasePath, batch, time);
        _connection = ResultsDatabase.Open(databasePath);
        _rows = new ResultRows(_connection, station, batch);
    }

    public string DatabasePath { get; }

    /// <summary>This batch's executions whose record does not end them (running, or cut off by a crash).</summary>
    public IReadOnlyList<string> Unfinished()
    {
        using var query = _connection.Prepare("SELECT id FROM execution_results WHERE batch_id = $batch AND status = 'running' ORDER BY started_at").Bind("$batch", _batch);
        var unfinished = new List<string>();
        while (query.Step())
        {
            unfinished.Add(query.Text(0)!);
        }

        return unfinished;
    }

    /// <summary>The number of the last event taken of <paramref name="execution"/> (0: none).</summary>
    public long Last(string execution)
    {
        CheckId(execution);
        if (!_last.TryGetValue(execution, out var last))
        {
            using var query = _connection.Prepare("SELECT COALESCE(MAX(seq), 0) FROM events WHERE execution_id = $e").Bind("$e", execution);
            last = query.Step() ? query.Int64(0) : 0;
            _last[execution] = last;
        }

        return last;
    }

    /// <summary>
    /// Takes the event if it is the next of its execution (true), to be written by the next
    /// <see cref="Commit"/>: the master acknowledges only what a commit wrote.
    /// </summary>
    /// <exception cref="ArgumentException">The execution id is not a plain name.</exception>
    public bool TryTake(Envelope message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var execution = message.Execution!;
        if (message.Sequence != Last(execution) + 1)
        {
            return false;
        }

        _pending.Add(new Taken(execution, message.Sequence.Value, message.Type, _time.GetUtcNow(), message.Body));
        _last[execution] = message.Sequence.Value;
        return true;
    }

    /// <summary>
    /// Writes what was taken since the last commit in one transaction (a group commit: a burst of
    /// events costs one sync to the disk). On failure nothing of it counts as taken, so the resends
    /// are taken again.
    /// </summary>
    /// <exception cref="SqliteFailure">The database could not be written (a full disk, say).</exception>
    public void Commit()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        try
        {
            InTransaction(() =>
            {
                foreach (var taken in _pending)
                {
                    _rows.Write(taken.Execution, taken.Seq, taken.Type, taken.At, taken.Body);
                }
            });
        }
        catch
        {
            foreach (var taken in _pending)
            {
                _last.Remove(taken.Execution); // read again from the database: what is there is what was written
            }

            throw;
        }
        finally
        {
            _pending.Clear();
        }
    }

    /// <summary>Ends an execution whose worker died: a SEQUENCE_ABORTED record after what was taken.</summary>
    public long Abort(string execution, string reason)
    {
        var seq = Last(execution) + 1;
        InTransaction(() => _rows.Write(execution, seq, MessageTypes.SequenceAborted, _time.GetUtcNow(), new JsonObject { ["reason"] = reason }));

        _last[execution] = seq;
        return seq;
    }

    /// <summary>
    /// Every event of an execution as recorded, in order: <c>{seq, type, at, body}</c>. Read through a
    /// connection of its own: it is asked from the API's threads, while the master's poller may be in
    /// the middle of a commit on its connection (whose rows a reader there would see before they count).
    /// </summary>
    public IReadOnlyList<JsonObject> Load(string execution) => Read(DatabasePath, execution);

    /// <inheritdoc cref="Load"/>
    public static IReadOnlyList<JsonObject> Read(string databasePath, string execution)
    {
        CheckId(execution);
        using var db = ResultsDatabase.Open(databasePath);
        using var query = db.Prepare("SELECT seq, type, at, body FROM events WHERE execution_id = $e ORDER BY seq").Bind("$e", execution);
        var records = new List<JsonObject>();
        while (query.Step())
        {
            records.Add(new JsonObject
            {
                ["seq"] = query.Int64(0),
                ["type"] = query.Text(1),
                ["at"] = query.Text(2),
                ["body"] = query.Text(3) is { } body ? JsonNode.Parse(body) : null,
            });
        }

        return records;
    }

    /// <summary>
    /// Moves the records a part-1 master kept (one JSON line per event in <c>FOLDER/EXECUTION.jsonl</c>)
    /// into the database, once: each file in one transaction, then the folder renamed
    /// <c>executions.imported</c>. A line a crash cut short was never acknowledged and is left out.
    /// </summary>
    public void ImportJsonLines(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*.jsonl").Order(StringComparer.Ordinal))
        {
            var execution = Path.GetFileNameWithoutExtension(file);
            if (Last(execution) > 0)
            {
                continue;
            }

            InTransaction(() =>
            {
                var seq = 0L;
                foreach (var line in File.ReadLines(file))
                {
                    if (Parse(line) is { } record && record["seq"]?.GetValue<long>() == seq + 1)
                    {
                        seq++;
                        var at = DateTimeOffset.TryParse(record["at"]?.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var when) ? when : _time.GetUtcNow();
                        _rows.Write(execution, seq, record["type"]?.GetValue<string>() ?? MessageTypes.Log, at, record["body"] as JsonObject);
                    }
                }
            });
            _last.Remove(execution);
        }

        Directory.Move(folder, folder + ".imported");

        static JsonObject? Parse(string line)
        {
            try
            {
                return JsonNode.Parse(line) as JsonObject;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }

    public void Dispose()
    {
        _rows.Dispose();
        _connection.Dispose();
    }

    /// <summary>All of <paramref name="write"/>, or none of it; after a rollback the result rows' cache of known executions is cleared.</summary>
    private void InTransaction(Action write)
    {
        try
        {
            _connection.InTransaction(write);
        }
        catch
        {
            _rows.Forget();
            throw;
        }
    }

    /// <summary>Execution ids are the worker's (<c>BATCH-TIME-RANDOM</c>): nothing else is taken or looked for.</summary>
    private static void CheckId(string execution)
    {
        if (execution.Length is 0 or > 200 || execution.StartsWith('.') || !execution.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"\"{execution}\" is not an execution id", nameof(execution));
        }
    }

    private sealed record Taken(string Execution, long Seq, string Type, DateTimeOffset At, JsonObject? Body);
}
