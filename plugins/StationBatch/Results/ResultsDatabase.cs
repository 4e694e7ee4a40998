namespace PluginHost.Plugins.StationBatch.Results;

/// <summary>
/// The station's results database: one SQLite file per station (<c>DATA/plugin-data/station-batch/results.db</c>),
/// shared by its batches, in WAL mode (readers never wait for the masters' writes), schema versioned
/// by <c>PRAGMA user_version</c> and migrated forward in one transaction when opened. The seed's four
/// tables (<c>execution_results</c>, <c>step_results</c>, <c>logs</c>, <c>sync_queue</c>) hold what a
/// results user asks for; <c>events</c> is the master's exact record of every event it acknowledged;
/// <c>sync_state</c> is what the sync sender last saw of the backend. The station-sync process opens it
/// with this same code (a linked source), so both agree on the schema.
/// </summary>
internal static class ResultsDatabase
{
    /// <summary>The schema, one entry per version: never edit one that has shipped, add the next.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE events (
            execution_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            at TEXT NOT NULL,
            body TEXT,
            PRIMARY KEY (execution_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE execution_results (
            id TEXT PRIMARY KEY,
            station_id TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            sequence_name TEXT,
            sequence_version TEXT,
            dut_serial TEXT,
            started_at TEXT NOT NULL,
            completed_at TEXT,
            status TEXT NOT NULL,
            verdict TEXT,
            parameters TEXT,
            result TEXT,
            error_code TEXT,
            error_message TEXT,
            synced_at TEXT,
            created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX execution_results_batch ON execution_results (batch_id, started_at);
        CREATE INDEX execution_results_serial ON execution_results (dut_serial);
        CREATE INDEX execution_results_status ON execution_results (status);
        CREATE TABLE step_results (
            id TEXT PRIMARY KEY,
            execution_id TEXT NOT NULL REFERENCES execution_results (id),
            step_group TEXT NOT NULL,
            step_index INTEGER NOT NULL,
            step_name TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            completed_at TEXT NOT NULL,
            duration_ms REAL NOT NULL,
            status TEXT NOT NULL,
            measurement_name TEXT,
            measurement_value REAL,
            measurement_text TEXT,
            units TEXT,
            limits TEXT,
            marginal INTEGER,
            error_code TEXT,
            error_message TEXT,
            reply TEXT,
            result TEXT
        );
        CREATE INDEX step_results_execution ON step_results (execution_id);
        CREATE TABLE logs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            batch_id TEXT NOT NULL,
            execution_id TEXT,
            level TEXT NOT NULL,
            message TEXT NOT NULL,
            timestamp TEXT NOT NULL
        );
        CREATE INDEX logs_execution ON logs (execution_id);
        CREATE TABLE sync_queue (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entity_type TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            action TEXT NOT NULL,
            payload TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            retry_count INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
        """,
        """
        CREATE TABLE sync_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            target TEXT NOT NULL,
            connected INTEGER NOT NULL,
            last_attempt_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            sent_total INTEGER NOT NULL DEFAULT 0
        );
        """,
    ];

    public static int Version => Migrations.Length;

    private static readonly Lock Opening = new();
    private static readonly TimeSpan OpenDeadline = TimeSpan.FromSeconds(10);

    /// <summary>A connection to the database at <paramref name="path"/>, created and migrated as needed.</summary>
    /// <exception cref="SqliteFailure">The file cannot be opened or migrated (a full disk, a file that is not a database).</exception>
    /// <exception cref="InvalidOperationException">The file is of a newer schema than this plugin's.</exception>
    public static SqliteFile Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var started = Environment.TickCount64;

        // Two batches (or a batch and the sync sender) opening a new file at once: switching it to WAL
        // takes the file alone, and SQLite answers "locked" at once rather than waiting. One opener at
        // a time in this process, and a bounded retry for the other processes and plugin versions.
        while (true)
        {
            try
            {
                lock (Opening)
                {
                    return OpenOnce(path);
                }
            }
            catch (SqliteFailure busy) when (busy.Code is 5 or 6 && Environment.TickCount64 - started < OpenDeadline.TotalMilliseconds)
            {
                Thread.Sleep(20);
            }
        }
    }

    private static SqliteFile OpenOnce(string path)
    {
        var file = SqliteFile.Open(path, busyTimeoutMilliseconds: 10_000, nativeFolder: Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "native"));
        try
        {
            // FULL: a commit is on the disk (power loss included) before the master acknowledges what it
            // holds. Checkpoints every 8,000 pages (≈ 32 MB of WAL) rather than SQLite's 1,000: fewer
            // of their syncs under a burst of steps (bench/station_results.py: 5.0k → 6.2–7.2k steps/s).
            file.Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 8000; PRAGMA foreign_keys = ON;");
            Migrate(file);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void Migrate(SqliteFile file)
    {
        // Most opens find the schema current (the API's queries, the gauges): they take no write lock.
        if (file.ScalarInt64("PRAGMA user_version") == Migrations.Length)
        {
            return;
        }

        file.InTransaction(() =>
        {
            var version = file.ScalarInt64("PRAGMA user_version");
            if (version > Migrations.Length)
            {
                throw new InvalidOperationException($"{file.Path} has results schema {version}, newer than this plugin's {Migrations.Length}: run the newer plugin, or open a copy");
            }

            for (var next = (int)version; next < Migrations.Length; next++)
            {
                file.Execute(Migrations[next]);
            }

            file.Execute($"PRAGMA user_version = {Migrations.Length}");
        });
    }
}
