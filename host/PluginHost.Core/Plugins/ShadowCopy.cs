namespace PluginHost.Core.Plugins;

/// <summary>
/// Copies a plugin folder to a fresh, unique folder before loading it. Loading from the copy lets
/// a new build overwrite the original while the old version runs, and a unique path per load keeps
/// the runtime from handing back an old image of the same path.
/// </summary>
internal static class ShadowCopy
{
    public static string Create(string source, string root, int generation)
    {
        var target = Path.Combine(root, $"{generation:D4}-{Guid.NewGuid():N}"[..17]);
        CopyDirectory(source, target);
        return target;
    }

    public static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover shadow folder is harmless; the next host start cleans the root.
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        Storage.PrivateFiles.CreateFolder(target);
        // Regular files only: copying a FIFO would wait for a writer forever, and no plugin loads one.
        foreach (var file in Directory.EnumerateFiles(source).Where(IO.RegularFile.IsRegular))
        {
            var copy = Path.Combine(target, Path.GetFileName(file));
            File.Copy(file, copy);
            if (!OperatingSystem.IsWindows())
            {
                // The owner's bits only (an executable helper stays executable), as everything in the data folder.
                File.SetUnixFileMode(copy, File.GetUnixFileMode(copy) & Storage.PrivateFiles.FolderMode);
            }
        }

        foreach (var directory in Directory.EnumerateDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }
}
