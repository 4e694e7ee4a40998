using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Hosting;

/// <summary>
/// One host per data folder: an exclusive flock(2) on <c>DATA/host.lock</c>, held for the host's
/// life and released by the kernel when it dies (even by kill -9), so a stale file never blocks a
/// restart. The file says who holds it (pid, API address, since when) for the error a second host
/// prints. Without it, a second host would re-attach to the first's units, read the same pipes and
/// delete its plugin shadow copies.
/// </summary>
internal sealed class DataFolderLock : IDisposable
{
    public const string FileName = "host.lock";
    private readonly SafeFileHandle _handle;

    private DataFolderLock(SafeFileHandle handle) => _handle = handle;

    /// <exception cref="DataFolderInUseException">Another host holds the folder.</exception>
    /// <exception cref="IOException">The lock file cannot be made.</exception>
    public static DataFolderLock Acquire(string dataDirectory, string apiAddress)
    {
        Storage.PrivateFiles.CreateFolder(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        // O_CLOEXEC: no unit inherits the descriptor (and with it the lock, past this host's death).
        var fd = LibC.open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC | LibC.O_NONBLOCK, Convert.ToInt32("600", 8));
        if (fd < 0)
        {
            throw new IOException($"cannot open {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (LibC.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw errno == LibC.EWOULDBLOCK
                ? new DataFolderInUseException(dataDirectory, Holder(path))
                : new IOException($"cannot lock {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var owner = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"pid={Environment.ProcessId}\napi={apiAddress}\nsince={DateTimeOffset.UtcNow:O}\n"));
        RandomAccess.SetLength(handle, 0);
        RandomAccess.Write(handle, owner, 0);
        return new DataFolderLock(handle);
    }

    /// <summary>What the holder wrote about itself, as one line ("pid 1234, API http://127.0.0.1:7171, since …").</summary>
    private static string Holder(string path)
    {
        var bytes = IO.RegularFile.TryRead(path, 4096, out _);
        var fields = (bytes is null ? "" : Encoding.UTF8.GetString(bytes)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return fields.TryGetValue("pid", out var pid)
            ? $"pid {pid}, API {fields.GetValueOrDefault("api", "unknown")}, since {fields.GetValueOrDefault("since", "unknown")}"
            : "a host that has not said who it is yet";
    }

    public void Dispose() => _handle.Dispose(); // closing the descriptor releases the lock
}

/// <summary>The data folder is locked by another running host.</summary>
internal sealed class DataFolderInUseException(string dataDirectory, string holder)
    : IOException($"the data folder {dataDirectory} is in use by another host ({holder}). One host per data folder: stop that host, or give this one a folder of its own with --data DIR (and an API port of its own with --urls).")
{
    public string DataDirectory { get; } = dataDirectory;
}
