using SQLitePCL;

namespace PluginHost.Core.Storage;

/// <summary>
/// One of the host's SQLite files in the data folder, opened in WAL mode (synchronous=NORMAL), through
/// SQLitePCLRaw directly. The host runs a handful of fixed statements; ADO.NET's Microsoft.Data.Sqlite
/// brought System.Data.Common and System.ComponentModel.TypeConverter with it, ≈ 2 MB resident in a
/// supervisor whose own footprint is part of its job (docs/benchmarks.md). Not thread-safe: each
/// owner serializes its calls.
/// </summary>
internal sealed class SqliteDatabase : IDisposable
{
    /// <summary>How long a statement waits for a lock held by another connection, as ADO.NET's default command timeout did.</summary>
    private const int BusyTimeoutMilliseconds = 30_000;

    private readonly sqlite3 _db;
    private readonly string _path;

    static SqliteDatabase() => Batteries_V2.Init();

    private SqliteDatabase(sqlite3 db, string path)
    {
        _db = db;
        _path = path;
    }

    /// <summary>Opens (creating it and its folder if need be) and applies <paramref name="schema"/> (idempotent statements).</summary>
    /// <exception cref="StorageException">The file cannot be opened or the schema applied.</exception>
    public static SqliteDatabase OpenWal(string path, string schema)
    {
        PrivateFiles.CreateFolder(Path.GetDirectoryName(path)!);

        // 0600 before SQLite opens it: its -wal and -shm files take the database file's mode.
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, []);
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            PrivateFiles.Restrict(file); // files of an earlier host may have been made 0644
        }

        var rc = raw.sqlite3_open_v2(path, out var db, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_CREATE | raw.SQLITE_OPEN_FULLMUTEX, null);
        var database = new SqliteDatabase(db, path);
        try
        {
            database.Check(rc, "open");
            database.Check(raw.sqlite3_busy_timeout(db, BusyTimeoutMilliseconds), "open");
            database.ExecuteScript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;\n" + schema);
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>Runs statements that take no parameters and return nothing (schema, transactions).</summary>
    public void ExecuteScript(string sql) => Check(raw.sqlite3_exec(_db, sql), sql);

    /// <summary>Runs one statement with its <c>$name</c> parameters.</summary>
    public void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var statement = Prepare(sql);
        statement.Bind(parameters);
        statement.Run();
    }

    /// <summary>The rows of one query, each read by <paramref name="read"/>.</summary>
    public List<T> Query<T>(string sql, Func<SqliteRow, T> read, params (string Name, object? Value)[] parameters)
    {
        using var statement = Prepare(sql);
        statement.Bind(parameters);
        var rows = new List<T>();
        while (statement.Next())
        {
            rows.Add(read(new SqliteRow(statement.Handle)));
        }

        return rows;
    }

    /// <summary>A statement to run many times with new values (a batch insert).</summary>
    public SqliteStatement Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out var handle), sql);
        return new SqliteStatement(this, handle, sql);
    }

    /// <exception cref="StorageException"><paramref name="rc"/> is an error.</exception>
    internal void Check(int rc, string what)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            throw new StorageException($"{_path}: {raw.sqlite3_errmsg(_db).utf8_to_string()} (SQLite error {rc}, in: {FirstLine(what)})", rc & 0xff);
        }
    }

    public void Dispose() => _db.Dispose();

    private static string FirstLine(string sql) => sql.Split('\n', 2)[0].Trim();
}
