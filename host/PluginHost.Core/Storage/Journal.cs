using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace PluginHost.Core.Storage;

/// <summary>
/// The host's durable memory, an SQLite database in WAL mode in the data folder: every unit
/// transition, and the process each unit runs. Written synchronously (a WAL insert costs tens of
/// microseconds) so that a host killed at any moment leaves a journal that matches what runs.
/// </summary>
internal sealed class Journal : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public Journal(string path)
    {
        _connection = WalDatabase.Open(path, """
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
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_table_info('processes')";
        var columns = new HashSet<string>(StringComparer.Ordinal);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }
        }

        if (!columns.Contains("output_event_kind"))
        {
            command.CommandText = "ALTER TABLE processes ADD COLUMN output_event_kind TEXT; ALTER TABLE processes ADD COLUMN output_events_per_second INTEGER NOT NULL DEFAULT 0";
            command.ExecuteNonQuery();
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
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT unit, pid, session, start_ticks, holder_pid, holder_start_ticks, started_at, ports, fingerprint,
                    output_event_kind, output_events_per_second FROM processes
                """;
            using var reader = command.ExecuteReader();
            var records = new List<ProcessRecord>();
            while (reader.Read())
            {
                records.Add(new ProcessRecord(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt32(4), reader.GetInt64(5),
                    DateTimeOffset.Parse(reader.GetString(6), System.Globalization.CultureInfo.InvariantCulture),
                    JsonSerializer.Deserialize(reader.GetString(7), StorageJsonContext.Default.IReadOnlyDictionaryStringInt32) ?? new Dictionary<string, int>(),
                    reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.GetInt32(10)));
            }

            return records;
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
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT from_state, to_state, reason FROM transitions WHERE unit = $unit ORDER BY id";
            command.Parameters.AddWithValue("$unit", unit);
            using var reader = command.ExecuteReader();
            var list = new List<(string, string, string)>();
            while (reader.Read())
            {
                list.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }

            return list;
        }
    }

    private void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            command.ExecuteNonQuery();
        }
    }

    public void Dispose() => _connection.Dispose();
}
