using System.Globalization;

namespace PluginHost.Plugins.StationBatch.Results;

/// <summary>
/// An online backup of the results database (the seed's §10.3, <c>sqlite3 .backup</c>): <c>VACUUM
/// INTO</c> a new file, which reads one consistent snapshot while the batches go on writing — the copy
/// holds every transaction committed before it began, and nothing half-written.
/// </summary>
internal static class ResultsBackup
{
    /// <returns>The copy's path and size.</returns>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is not an absolute path.</exception>
    /// <exception cref="SqliteFailure">SQLite could not write the copy (no room, no permission).</exception>
    public static (string Path, long Bytes) Run(string database, string folder, TimeProvider time)
    {
        if (!System.IO.Path.IsPathFullyQualified(folder))
        {
            throw new ArgumentException($"\"{folder}\" is not an absolute path", nameof(folder));
        }

        Directory.CreateDirectory(folder);
        var copy = System.IO.Path.Combine(folder, $"results-{time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}.db");
        using (var db = ResultsDatabase.Open(database))
        using (var vacuum = db.Prepare("VACUUM INTO $copy"))
        {
            vacuum.Bind("$copy", copy).Run();
        }

        return (copy, new FileInfo(copy).Length);
    }
}
