using SQLitePCL;

namespace PluginHost.Core.Storage;

/// <summary>A prepared statement of a <see cref="SqliteDatabase"/>.</summary>
internal sealed class SqliteStatement(SqliteDatabase database, sqlite3_stmt handle, string sql) : IDisposable
{
    internal sqlite3_stmt Handle => handle;

    /// <summary>Binds <c>$name</c> parameters: integers, text, or null.</summary>
    public void Bind(params (string Name, object? Value)[] parameters)
    {
        database.Check(raw.sqlite3_reset(handle), sql);
        foreach (var (name, value) in parameters)
        {
            var index = raw.sqlite3_bind_parameter_index(handle, name);
            if (index == 0)
            {
                throw new ArgumentException($"the statement has no parameter {name}: {sql}", nameof(parameters));
            }

            database.Check(value switch
            {
                null => raw.sqlite3_bind_null(handle, index),
                int number => raw.sqlite3_bind_int64(handle, index, number),
                long number => raw.sqlite3_bind_int64(handle, index, number),
                string text => raw.sqlite3_bind_text(handle, index, text),
                _ => throw new ArgumentException($"{name}: {value.GetType().Name} is not stored (integers and text are)", nameof(parameters)),
            }, sql);
        }
    }

    /// <summary>Runs the statement to its end (no rows expected).</summary>
    public void Run()
    {
        while (Next())
        {
        }
    }

    /// <returns>Whether a row is there to read.</returns>
    public bool Next()
    {
        var rc = raw.sqlite3_step(handle);
        database.Check(rc, sql);
        return rc == raw.SQLITE_ROW;
    }

    public void Dispose() => handle.Dispose();
}
