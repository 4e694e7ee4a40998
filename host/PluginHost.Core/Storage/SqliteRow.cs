using SQLitePCL;

namespace PluginHost.Core.Storage;

/// <summary>The current row of a query.</summary>
internal readonly struct SqliteRow(sqlite3_stmt handle)
{
    public bool IsNull(int column) => raw.sqlite3_column_type(handle, column) == raw.SQLITE_NULL;

    public long GetInt64(int column) => raw.sqlite3_column_int64(handle, column);

    public int GetInt32(int column) => checked((int)raw.sqlite3_column_int64(handle, column));

    public string GetString(int column) => raw.sqlite3_column_text(handle, column).utf8_to_string();
}
