using System.Security.Cryptography;

namespace PluginHost.Plugins.StationBatch;

/// <summary>
/// Where the plugin's programs (the batch worker, the sync sender) run from: not the build folder,
/// which the next build overwrites while they run on (and load assemblies lazily), but a copy made
/// once per build in <c>DATA/NAME/HASH/</c>.
/// </summary>
internal static class WorkerInstall
{
    public const string EntryAssembly = "station-worker.dll";
    private static readonly Lock Gate = new();

    /// <returns>The path of the installed program's entry assembly.</returns>
    /// <param name="source">The built program's folder.</param>
    /// <param name="entryAssembly">Its entry assembly (<c>NAME.dll</c>: NAME is also its folder in the data folder).</param>
    public static string Ensure(string source, string dataRoot, string entryAssembly = EntryAssembly)
    {
        var entry = Path.Combine(source, entryAssembly);
        if (!File.Exists(entry))
        {
            throw new FileNotFoundException($"no {Path.GetFileNameWithoutExtension(entryAssembly)} at {entry}", entry);
        }

        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry)))[..16].ToLowerInvariant();
        var target = Path.Combine(dataRoot, Path.GetFileNameWithoutExtension(entryAssembly), hash);
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

        return Path.Combine(target, entryAssembly);
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
