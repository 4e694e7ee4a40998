using PluginHost.Contracts.Units;

namespace PluginHost.Core.Storage;

/// <summary>Recognises a full disk (or quota) behind an I/O failure, and says it the one way the host says it.</summary>
internal static class DiskErrors
{
    public const string DiskFullCode = "DISK_FULL";

    private const int ENOSPC = 28;
    private const int EDQUOT = 122;
    private const int SQLITE_FULL = 13;

    public static bool IsDiskFull(Exception exception) => exception switch
    {
        StorageException storage => storage.ResultCode == SQLITE_FULL,
        IOException io => io.HResult is ENOSPC or EDQUOT,
        _ => false,
    };

    public static UnitError DiskFull(string folder, string doing) => new(DiskFullCode,
        $"No space left on the file system of {folder} ({doing}).",
        $"Free space there (df -h {folder}); the host goes on supervising and catches up by itself once there is room.");
}
