using System.Security.Cryptography;

namespace PluginHost.Plugins.StationBatch;

/// <summary>
/// Where workers run from: not the build folder, which the next build overwrites while workers run
/// on (and load assemblies lazily), but a copy made once per build in <c>DATA/station-worker/HASH/</c>.
/// </summary>
internal static class WorkerInstall
{
    public const string EntryAssembly = "station-worker.dll";
    private static readonly Lock Gate = new();

    /// <returns>The path of the installed worker's entry assembly.</returns>
    /// <param name="source">The built worker's folder.</param>
    public static string Ensure(string source, string dataRoot)
    {
        var entry = Path.Combine(source, EntryAssembly);
        if (!File.Exists(entry))
        {
            throw new FileNotFoundException($"no station worker at {entry}", entry);
        }

        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry)))[..16].ToLowerInvariant();
        var target = Path.Combine(dataRoot, "station-worker", hash);
        lock (Gate)
        {
            if (!File.Exists(Path.Combine(target, ".complete")))
            {
                var staging = target + ".tmp-" + Environment.ProcessId;
                CopyTree(source, staging);
                File.WriteAllText(Path.Combine(staging, ".complete"), hash);
                if (Directory.Exists(target))
                {
                    Directory.Delete(target, recursive: true);
                }

                Directory.Move(staging, target);
            }
        }

        return Path.Combine(target, EntryAssembly);
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }

        foreach (var folder in Directory.EnumerateDirectories(from))
        {
            CopyTree(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }
}
