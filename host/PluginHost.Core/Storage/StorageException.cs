namespace PluginHost.Core.Storage;

/// <summary>The host's SQLite storage failed: the message names the file, SQLite's reason and the statement.</summary>
internal sealed class StorageException(string message) : IOException(message);
