using System.Text.Json;

namespace PluginHost.Core.Storage;

/// <summary>
/// The host's durable memory, an SQLite database in WAL mode in the data folder: every unit
/// transition, and the process each unit runs. A new process is written before its unit goes on,
/// so that a host killed at any moment leaves a journal that names every process that runs.
/// Transitions, and the end of a process, are written behind, in order, by a thread-pool item:
/// they are history, or about a process that is gone (a successor finds its pid dead or reused and
/// leaves it), and a crash → restart that waited on three of them spent ≈ 0.25 ms in SQLite
/// before the new process could start. Writes waiting together go in one transaction, so a start
/// of 1,000 units is a few transactions rather than 3,000. While the disk refuses writes (full),
/// they wait in memory and are written, in order, once it takes them.
/// </summary>
internal sealed class Journal : IDisposable
{
    /// <summary>Writes kept in memory while the disk refuses them; beyond this, the oldest transitions go.</summary>
    public const int MaxUnsaved = 10_000;

    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly SqliteDatabase _database;
    private readonly Lock _gate = new();
    private readonly List<Write> _unsaved = [];
    private readonly Lock _queueGate = new();
    private List<Write> _queued = [];
    private bool _flushQueued;
    private readonly StorageComponent _health;
    private readonly ITimer? _retry;
    private long _transitionsLost;
    private long _lostSinceFailure;
    private bool _disposed;

    /// <param name="time">Drives the retries after a failed write; null: retried only with the next write.</param>
    public Journal(string path, TimeProvider? time = null, StorageComponent? health = null)
    {
        _health = health ?? StorageComponent.Unwatched("journal", path);
        _retry = time?.CreateTimer(_ => Retry(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _database = SqliteDatabase.OpenWal(path, """
            CREATE TABLE IF NOT EXISTS processes (
                unit TEXT PRIMARY KEY, pid INTEGER NOT NULL, session INTEGER NOT NULL, start_ticks INTEGER NOT NULL,
                holder_pid INTEGER NOT NULL, holder_start_ticks INTEGER NOT NULL, started_at TEXT NOT NULL,
                ports TEXT NOT NULL, fingerprint TEXT NOT NULL, output_event_kind TEXT, output_events_per_second INTEGER NOT NULL DEFAULT 0,
                stdout_path TEXT, stderr_path TEXT);
            CREATE TABLE IF NOT EXISTS transitions (
                id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL,
                reason TEXT NOT NULL, pid INTEGER, at TEXT NOT NULL);
            """);
        AddMissingColumns();
        HashPlainFingerprints();
    }

    /// <summary>
    /// Journals of earlier hosts stored a manifest's canonical text as its fingerprint, secret
    /// environment values included. Replaced by its hash (the same fingerprint this host computes,
    /// so those units are still adopted), with SQLite told to overwrite what it frees and the WAL
    /// emptied, so the text is gone from the file and not just unreferenced.
    /// </summary>
    private void HashPlainFingerprints()
    {
        var plain = _database.Query($"SELECT unit, fingerprint FROM processes WHERE fingerprint NOT LIKE '{Manifests.Fingerprint.Prefix}%'",
            row => (Unit: row.GetString(0), Text: row.GetString(1)));
        if (plain.Count == 0)
        {
            return;
        }

        _database.ExecuteScript("PRAGMA secure_delete = ON");
        foreach (var (unit, text) in plain)
        {
            _database.Execute("UPDATE processes SET fingerprint = $hash WHERE unit = $unit", ("$hash", Manifests.Fingerprint.OfCanonicalText(text)), ("$unit", unit));
        }

        _database.ExecuteScript("PRAGMA wal_checkpoint(TRUNCATE)");
    }

    /// <summary>A journal written by an earlier host lacks the output-event columns: add them, so its units can still be adopted.</summary>
    private void AddMissingColumns()
    {
        var columns = _database.Query("SELECT name FROM pragma_table_info('processes')", row => row.GetString(0));
        if (!columns.Contains("output_event_kind"))
        {
            _database.ExecuteScript("ALTER TABLE processes ADD COLUMN output_event_kind TEXT; ALTER TABLE processes ADD COLUMN output_events_per_second INTEGER NOT NULL DEFAULT 0");
        }

        if (!columns.Contains("stdout_path"))
        {
            _database.ExecuteScript("ALTER TABLE processes ADD COLUMN stdout_path TEXT; ALTER TABLE processes ADD COLUMN stderr_path TEXT");
        }
    }

    /// <summary>Written now, with every write queued before it: on disk when this returns (unless the disk refuses it).</summary>
    public void RecordProcess(ProcessRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Enqueue(new ProcessWrite(record.Unit, record));
        Flush();
    }

    /// <summary>Written behind: the process has ended.</summary>
    public void ForgetProcess(string unit) => WriteBehind(new ProcessWrite(unit, null));

    /// <summary>The processes the journal holds, including those not yet on disk (a full disk).</summary>
    public IReadOnlyList<ProcessRecord> Processes()
    {
        Flush();
        lock (_gate)
        {
            var saved = _database.Query("""
                SELECT unit, pid, session, start_ticks, holder_pid, holder_start_ticks, started_at, ports, fingerprint,
                    output_event_kind, output_events_per_second, stdout_path, stderr_path FROM processes
                """, row => new ProcessRecord(row.GetString(0), row.GetInt32(1), row.GetInt32(2), row.GetInt64(3), row.GetInt32(4), row.GetInt64(5),
                    DateTimeOffset.Parse(row.GetString(6), System.Globalization.CultureInfo.InvariantCulture),
                    JsonSerializer.Deserialize(row.GetString(7), StorageJsonContext.Default.IReadOnlyDictionaryStringInt32) ?? new Dictionary<string, int>(),
                    row.GetString(8), row.IsNull(9) ? null : row.GetString(9), row.GetInt32(10),
                    row.IsNull(11) ? null : row.GetString(11), row.IsNull(12) ? null : row.GetString(12))).ToDictionary(r => r.Unit, StringComparer.Ordinal);
            foreach (var write in _unsaved.OfType<ProcessWrite>())
            {
                if (write.Record is null)
                {
                    saved.Remove(write.Unit);
                }
                else
                {
                    saved[write.Unit] = write.Record;
                }
            }

            return [.. saved.Values];
        }
    }

    /// <summary>Written behind.</summary>
    public void RecordTransition(string unit, string from, string to, string reason, int? pid, DateTimeOffset at) =>
        WriteBehind(new TransitionWrite(unit, from, to, reason, pid, at));

    /// <summary>The recorded transitions of a unit, oldest first, including those not yet on disk (for tests and diagnostics).</summary>
    public IReadOnlyList<(string From, string To, string Reason)> Transitions(string unit)
    {
        Flush();
        lock (_gate)
        {
            var saved = _database.Query("SELECT from_state, to_state, reason FROM transitions WHERE unit = $unit ORDER BY id",
                row => (row.GetString(0), row.GetString(1), row.GetString(2)), ("$unit", unit));
            return [.. saved, .. _unsaved.OfType<TransitionWrite>().Where(t => t.Unit == unit).Select(t => (t.From, t.To, t.Reason))];
        }
    }

    /// <summary>Transitions dropped because too many waited for the disk (process rows are never dropped).</summary>
    public long TransitionsLost
    {
        get
        {
            lock (_gate)
            {
                return _transitionsLost;
            }
        }
    }

    private void Enqueue(Write write)
    {
        lock (_queueGate)
        {
            _queued.Add(write);
        }
    }

    /// <summary>Queues the write; the first write queued since the last flush asks the thread pool for one.</summary>
    private void WriteBehind(Write write)
    {
        lock (_queueGate)
        {
            _queued.Add(write);
            if (_flushQueued)
            {
                return;
            }

            _flushQueued = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static journal => journal.Flush(), this, preferLocal: false);
    }

    /// <summary>
    /// Writes what is queued, with whatever earlier writes the disk refused, in order, in one transaction.
    /// Never throws into supervision: on failure everything waits in memory, the alarm is raised, and
    /// a timer tries again — a host killed meanwhile loses what waited, which its successor sees as a
    /// unit it does not know about (terminated or left alone, never duplicated: see Supervisor.StartAsync).
    /// </summary>
    private void Flush()
    {
        lock (_gate)
        {
            List<Write> queued;
            lock (_queueGate)
            {
                (queued, _queued, _flushQueued) = (_queued, [], false);
            }

            foreach (var write in queued)
            {
                Keep(write);
            }

            if (_disposed || (_health.IsFailing && _retry is not null))
            {
                return; // the retry timer writes the backlog; one failing write per second is enough
            }

            SaveLocked();
        }
    }

    /// <summary>Adds a write to those waiting for the disk.</summary>
    private void Keep(Write write)
    {
        if (write is ProcessWrite process)
        {
            // Only a unit's latest process row matters: a crash loop on a full disk keeps one per unit.
            _unsaved.RemoveAll(w => w is ProcessWrite p && p.Unit == process.Unit);
        }

        _unsaved.Add(write);
        if (_unsaved.Count > MaxUnsaved && _unsaved.FindIndex(w => w is TransitionWrite) is >= 0 and var oldest)
        {
            // History may go, what runs may not: the oldest transition makes room.
            _unsaved.RemoveAt(oldest);
            _transitionsLost++;
            _lostSinceFailure++;
        }
    }

    private void SaveLocked()
    {
        if (_unsaved.Count == 0)
        {
            return;
        }

        try
        {
            if (_unsaved.Count == 1)
            {
                Run(_unsaved[0]);
            }
            else
            {
                _database.ExecuteScript("BEGIN");
                try
                {
                    foreach (var write in _unsaved)
                    {
                        Run(write);
                    }

                    _database.ExecuteScript("COMMIT");
                }
                catch (StorageException)
                {
                    TryRollback();
                    throw;
                }
            }

            _unsaved.Clear();
            if (_health.IsFailing)
            {
                _health.Succeeded(_lostSinceFailure == 0 ? "nothing (every write waited and is now on disk)" : $"{_lostSinceFailure} transition record(s); process records all kept");
                _lostSinceFailure = 0;
            }

            _retry?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        catch (StorageException ex)
        {
            _health.Failed(ex);
            _retry?.Change(RetryInterval, RetryInterval);
        }
    }

    private void Run(Write write)
    {
        switch (write)
        {
            case ProcessWrite { Record: null } forget:
                _database.Execute("DELETE FROM processes WHERE unit = $unit", ("$unit", forget.Unit));
                break;
            case ProcessWrite { Record: { } record }:
                _database.Execute("""
                    INSERT OR REPLACE INTO processes (unit, pid, session, start_ticks, holder_pid, holder_start_ticks, started_at, ports, fingerprint,
                        output_event_kind, output_events_per_second, stdout_path, stderr_path)
                    VALUES ($unit, $pid, $session, $start, $holder, $holderStart, $startedAt, $ports, $fingerprint, $eventKind, $eventsPerSecond, $stdout, $stderr)
                    """,
                    ("$unit", record.Unit), ("$pid", record.Pid), ("$session", record.Session), ("$start", record.StartTimeTicks),
                    ("$holder", record.HolderPid), ("$holderStart", record.HolderStartTimeTicks), ("$startedAt", record.StartedAt.ToString("O")),
                    ("$ports", JsonSerializer.Serialize(record.Ports, StorageJsonContext.Default.IReadOnlyDictionaryStringInt32)), ("$fingerprint", record.Fingerprint),
                    ("$eventKind", record.OutputEventKind), ("$eventsPerSecond", record.OutputEventsPerSecond),
                    ("$stdout", record.StandardOutPath), ("$stderr", record.StandardErrorPath));
                break;
            case TransitionWrite t:
                _database.Execute("INSERT INTO transitions (unit, from_state, to_state, reason, pid, at) VALUES ($unit, $from, $to, $reason, $pid, $at)",
                    ("$unit", t.Unit), ("$from", t.From), ("$to", t.To), ("$reason", t.Reason), ("$pid", t.Pid), ("$at", t.At.ToString("O")));
                break;
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

    private void Retry()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                SaveLocked();
            }
        }
    }

    private abstract record Write;

    private sealed record ProcessWrite(string Unit, ProcessRecord? Record) : Write;

    private sealed record TransitionWrite(string Unit, string From, string To, string Reason, int? Pid, DateTimeOffset At) : Write;

    public void Dispose()
    {
        Flush();
        lock (_gate)
        {
            _disposed = true;
            SaveLocked(); // a last try: what still waits is lost with this host, as after a crash
        }

        _retry?.Dispose();
        _database.Dispose();
    }
}
