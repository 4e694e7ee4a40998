using System.Text.Json;

namespace PluginHost.Core.Storage;

/// <summary>
/// The host's durable memory, an SQLite database in WAL mode in the data folder: every unit
/// transition, and the process each unit runs. Written synchronously (a WAL insert costs tens of
/// microseconds) so that a host killed at any moment leaves a journal that matches what runs.
/// </summary>
internal sealed class Journal : IDisposable
{
    private readonly SqliteDatabase _database;
    private readonly Lock _gate = new();

    public Journal(string path)
    {
        _database = SqliteDatabase.OpenWal(path, """
            CREATE TABLE IF NOT EXISTS processes (
                unit TEXT PRIMARY KEY, pid INTEGER NOT NULL, session INTEGER NOT NULL, start_ticks INTEGER NOT NULL,
                holder_pid INTEGER NOT NULL, holder_start_ticks INTEGER NOT NULL, started_at TEXT NOT NULL,
                ports TEXT NOT NULL, fingerprint TEXT NOT NULL, output_event_kind TEXT, output_events_per_second INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS transitions (
                id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL,
                reason TEXT NOT NULL, pid INTEGER, at TEXT NOT NULL);
            """);
        AddMissingColumns();
    }

    /// <summary>A journal written by an earlier host lacks the output-event columns: add them, so its units can still be adopted.</summary>
    private void AddMissingColumns()
    {
        var columns = _database.Query("SELECT name FROM pragma_table_info('processes')", row => row.GetString(0));
        if (!columns.Contains("output_event_kind"))
        {
            _database.ExecuteScript("ALTER TABLE processes ADD COLUMN output_event_kind TEXT; ALTER TABLE processes ADD COLUMN output_events_per_second INTEGER NOT NULL DEFAULT 0");
        }
    }

    public void RecordProcess(ProcessRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Execute("""
            INSERT OR REPLACE INTO processes (unit, pid, session, start_ticks, holder_pid, holder_start_ticks, started_at, ports, fingerprint,
                output_event_kind, output_events_per_second)
            VALUES ($unit, $pid, $session, $start, $holder, $holderStart, $startedAt, $ports, $fingerprint, $eventKind, $eventsPerSecond)
            """,
            ("$unit", record.Unit), ("$pid", record.Pid), ("$session", record.Session), ("$start", record.StartTimeTicks),
            ("$holder", record.HolderPid), ("$holderStart", record.HolderStartTimeTicks), ("$startedAt", record.StartedAt.ToString("O")),
            ("$ports", JsonSerializer.Serialize(record.Ports, StorageJsonContext.Default.IReadOnlyDictionaryStringInt32)), ("$fingerprint", record.Fingerprint),
            ("$eventKind", record.OutputEventKind), ("$eventsPerSecond", record.OutputEventsPerSecond));
    }

    public void ForgetProcess(string unit) => Execute("DELETE FROM processes WHERE unit = $unit", ("$unit", unit));

    public IReadOnlyList<ProcessRecord> Processes()
    {
        lock (_gate)
        {
            return _database.Query("""
                SELECT unit, pid, session, start_ticks, holder_pid, holder_start_ticks, started_at, ports, fingerprint,
                    output_event_kind, output_events_per_second FROM processes
                """, row => new ProcessRecord(row.GetString(0), row.GetInt32(1), row.GetInt32(2), row.GetInt64(3), row.GetInt32(4), row.GetInt64(5),
                    DateTimeOffset.Parse(row.GetString(6), System.Globalization.CultureInfo.InvariantCulture),
                    JsonSerializer.Deserialize(row.GetString(7), StorageJsonContext.Default.IReadOnlyDictionaryStringInt32) ?? new Dictionary<string, int>(),
                    row.GetString(8), row.IsNull(9) ? null : row.GetString(9), row.GetInt32(10)));
        }
    }

    public void RecordTransition(string unit, string from, string to, string reason, int? pid, DateTimeOffset at) =>
        Execute("INSERT INTO transitions (unit, from_state, to_state, reason, pid, at) VALUES ($unit, $from, $to, $reason, $pid, $at)",
            ("$unit", unit), ("$from", from), ("$to", to), ("$reason", reason), ("$pid", pid), ("$at", at.ToString("O")));

    /// <summary>The recorded transitions of a unit, oldest first (for tests and diagnostics).</summary>
    public IReadOnlyList<(string From, string To, string Reason)> Transitions(string unit)
    {
        lock (_gate)
        {
            return _database.Query("SELECT from_state, to_state, reason FROM transitions WHERE unit = $unit ORDER BY id",
                row => (row.GetString(0), row.GetString(1), row.GetString(2)), ("$unit", unit));
        }
    }

    private void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            _database.Execute(sql, parameters);
        }
    }

    public void Dispose() => _database.Dispose();
}
