using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using SQLitePCL;

namespace PluginHost.Plugins.StationBatch.Results;

/// <summary>
/// A connection to a SQLite file through SQLitePCLRaw directly. Not Microsoft.Data.Sqlite: its
/// connection factory keeps a static prune timer, which roots the plugin's load context and so
/// keeps every replaced version of the plugin in memory after a hot reload (seen: "still alive
/// after 10 GC cycles"). Not thread-safe: each owner serializes its calls.
/// </summary>
/// <remarks>
/// <b>One SQLite per process for a file.</b> Every version of the plugin runs from its own shadow copy,
/// so each would load its own copy of <c>libe_sqlite3</c> — two SQLite libraries in one process, on
/// one database, do not see each other's POSIX locks or WAL index, and corrupt it ("database disk
/// image is malformed", seen during a hot reload mid-sequence). So the native library is loaded from
/// a content-addressed copy beside the database (<c>native/HASH/</c>): every version with the same
/// SQLite build loads the very same file, which the dynamic loader maps once.
/// </remarks>
internal sealed class SqliteFile : IDisposable
{
    private static readonly Lock Initializing = new();
    private static bool s_initialized;
    private readonly sqlite3 _db;

    /// <summary>Sets where this plugin version's SQLite comes from (before its first call), then initializes SQLitePCLRaw.</summary>
    private static void Initialize(string nativeFolder)
    {
        lock (Initializing)
        {
            if (s_initialized)
            {
                return;
            }

            var provider = typeof(SQLite3Provider_e_sqlite3).Assembly;
            NativeLibrary.SetDllImportResolver(provider, (name, _, _) =>
                name == "e_sqlite3" && StableCopy(nativeFolder) is { } path ? NativeLibrary.Load(path) : IntPtr.Zero);
            Batteries_V2.Init();
            s_initialized = true;
        }
    }

    /// <summary>The plugin's own libe_sqlite3, copied once to <c>FOLDER/HASH/</c> (null: none found, so the loader's default is used).</summary>
    private static string? StableCopy(string nativeFolder)
    {
        string? original;
        try
        {
            original = new AssemblyDependencyResolver(typeof(SqliteFile).Assembly.Location).ResolveUnmanagedDllToPath("e_sqlite3");
        }
        catch (InvalidOperationException)
        {
            original = null; // not loaded as a plugin (the tests): one copy of SQLite in the process anyway
        }

        if (original is null || !File.Exists(original))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(original);
        var folder = System.IO.Path.Combine(nativeFolder, Convert.ToHexString(SHA256.HashData(bytes))[..16]);
        var copy = System.IO.Path.Combine(folder, System.IO.Path.GetFileName(original));
        if (!File.Exists(copy))
        {
            Directory.CreateDirectory(folder);
            var partial = copy + "." + Environment.ProcessId + ".partial";
            File.WriteAllBytes(partial, bytes);
            File.Move(partial, copy, overwrite: true); // whole or absent, never half a library
        }

        return copy;
    }

    private SqliteFile(sqlite3 db, string path) => (_db, Path) = (db, path);

    public string Path { get; }

    /// <param name="nativeFolder">Where the content-addressed copy of the native SQLite library lives (see the remarks).</param>
    /// <exception cref="SqliteFailure">The file cannot be opened.</exception>
    public static SqliteFile Open(string path, int busyTimeoutMilliseconds, string nativeFolder)
    {
        Initialize(nativeFolder);
        var rc = raw.sqlite3_open_v2(path, out var db, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_CREATE | raw.SQLITE_OPEN_FULLMUTEX, null);
        var file = new SqliteFile(db, path);
        try
        {
            file.Check(rc, "open");
            file.Check(raw.sqlite3_busy_timeout(db, busyTimeoutMilliseconds), "open");
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Statements without parameters or rows (schema, pragmas, transactions).</summary>
    public void Execute(string sql) => Check(raw.sqlite3_exec(_db, sql), sql);

    /// <summary>All of <paramref name="write"/> in one write transaction (taken at once: <c>BEGIN IMMEDIATE</c>), or none of it.</summary>
    public void InTransaction(Action write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Execute("BEGIN IMMEDIATE");
        try
        {
            write();
            Execute("COMMIT");
        }
        catch
        {
            Execute("ROLLBACK");
            throw;
        }
    }

    public long ScalarInt64(string sql)
    {
        using var statement = Prepare(sql);
        return statement.Step() ? statement.Int64(0) : 0;
    }

    public Statement Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out var handle), sql);
        return new Statement(this, handle, sql);
    }

    /// <exception cref="SqliteFailure"><paramref name="rc"/> is an error.</exception>
    internal void Check(int rc, string what)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            throw new SqliteFailure($"{Path}: {raw.sqlite3_errmsg(_db).utf8_to_string()} (SQLite error {rc}, in: {what.Split('\n', 2)[0].Trim()})", rc & 0xff);
        }
    }

    public void Dispose() => _db.Dispose();

    /// <summary>A prepared statement: bound by <c>$name</c>, stepped, read by column.</summary>
    internal sealed class Statement(SqliteFile file, sqlite3_stmt handle, string sql) : IDisposable
    {
        /// <summary>Clears the last run's values: every parameter is null until bound again.</summary>
        public Statement Reset()
        {
            file.Check(raw.sqlite3_reset(handle), sql);
            file.Check(raw.sqlite3_clear_bindings(handle), sql);
            return this;
        }

        public Statement Bind(string name, object? value)
        {
            var index = raw.sqlite3_bind_parameter_index(handle, name);
            if (index == 0)
            {
                throw new ArgumentException($"the statement has no parameter {name}: {sql}", nameof(name));
            }

            file.Check(value switch
            {
                null => raw.sqlite3_bind_null(handle, index),
                bool flag => raw.sqlite3_bind_int64(handle, index, flag ? 1 : 0),
                int number => raw.sqlite3_bind_int64(handle, index, number),
                long number => raw.sqlite3_bind_int64(handle, index, number),
                double number => raw.sqlite3_bind_double(handle, index, number),
                string text => raw.sqlite3_bind_text(handle, index, text),
                _ => throw new ArgumentException($"{name}: {value.GetType().Name} is not stored", nameof(value)),
            }, sql);
            return this;
        }

        /// <returns>Whether a row is there to read.</returns>
        public bool Step()
        {
            var rc = raw.sqlite3_step(handle);
            file.Check(rc, sql);
            return rc == raw.SQLITE_ROW;
        }

        public void Run()
        {
            while (Step())
            {
            }
        }

        public bool IsNull(int column) => raw.sqlite3_column_type(handle, column) == raw.SQLITE_NULL;

        public long Int64(int column) => raw.sqlite3_column_int64(handle, column);

        public double Double(int column) => raw.sqlite3_column_double(handle, column);

        public string? Text(int column) => IsNull(column) ? null : raw.sqlite3_column_text(handle, column).utf8_to_string();

        public void Dispose() => handle.Dispose();
    }
}

/// <summary>SQLite refused: the file, its reason and the statement. <see cref="Code"/> is SQLite's primary result code (13: full).</summary>
internal sealed class SqliteFailure : Exception
{
    public SqliteFailure(string message, int code)
        : base(message) => Code = code;

    public SqliteFailure()
    {
    }

    public SqliteFailure(string message)
        : base(message)
    {
    }

    public SqliteFailure(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Code { get; }

    public bool DiskFull => Code == 13;
}
