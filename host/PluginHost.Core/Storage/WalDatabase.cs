using Microsoft.Data.Sqlite;

namespace PluginHost.Core.Storage;

/// <summary>Opens one of the host's SQLite files in the data folder: WAL, synchronous=NORMAL, no pooling, schema applied.</summary>
internal static class WalDatabase
{
    public static SqliteConnection Open(string path, string schema)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;\n" + schema;
        command.ExecuteNonQuery();
        return connection;
    }
}
