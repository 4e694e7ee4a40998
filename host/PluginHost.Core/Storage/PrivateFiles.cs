namespace PluginHost.Core.Storage;

/// <summary>
/// The host's data folder holds what only the host's user should read: captured output (which may
/// print secrets), the journal, the events. Folders the host makes are 0700, files it makes 0600,
/// whatever the umask — set per file, since a umask would be inherited by every unit.
/// </summary>
internal static class PrivateFiles
{
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the folder and its missing parents, each 0700; an existing one keeps its mode.</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only.
        var missing = new Stack<string>();
        for (var folder = Path.GetFullPath(path); !Directory.Exists(folder); folder = Path.GetDirectoryName(folder)!)
        {
            missing.Push(folder);
        }

        while (missing.TryPop(out var folder))
        {
            Directory.CreateDirectory(folder, FolderMode);
        }
    }

    /// <summary>Makes an existing file or folder of the host's private (0600 / 0700); nothing when it is not there.</summary>
    public static void Restrict(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (Directory.Exists(path))
        {
            File.SetUnixFileMode(path, FolderMode);
        }
        else if (File.Exists(path))
        {
            File.SetUnixFileMode(path, FileMode);
        }
    }

    /// <summary>Options for a new file of the host's (replacing one of that name), created 0600.</summary>
    public static FileStreamOptions Create() => OperatingSystem.IsWindows()
        ? new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write }
        : new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write, UnixCreateMode = FileMode };

    /// <summary>Options for a file the host appends to, created 0600.</summary>
    public static FileStreamOptions Append() => OperatingSystem.IsWindows()
        ? new FileStreamOptions { Mode = System.IO.FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0 }
        : new FileStreamOptions { Mode = System.IO.FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0, UnixCreateMode = FileMode };
}
