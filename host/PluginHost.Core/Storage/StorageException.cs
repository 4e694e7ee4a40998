namespace PluginHost.Core.Storage;

/// <summary>The host's SQLite storage failed: the message names the file, SQLite's reason and the statement.</summary>
internal sealed class StorageException(string message, int resultCode = 0) : IOException(message)
{
    /// <summary>SQLite's primary result code (13 = SQLITE_FULL: the disk or the file system's quota is full).</summary>
    public int ResultCode { get; } = resultCode;
}
