using System.Text.Json.Nodes;
using PluginHost.Core.Events;

namespace PluginHost.Core.Alerts;

/// <summary>
/// Free space where the host writes (the data folder, the logs), checked on the host's clock: a
/// <c>disk_low</c> event when it falls below the threshold (a fraction of the disk, or a number of
/// bytes), once until it recovers (<c>disk_ok</c>). Folders on one file system are checked once.
/// </summary>
internal sealed class DiskMonitor : IDisposable
{
    public const string RecoveredKind = "disk_ok";
    private readonly IReadOnlyList<string> _folders;
    private readonly AlertSettings _settings;
    private readonly EventPublisher _publisher;
    private readonly ITimer _timer;
    private readonly HashSet<string> _low = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public DiskMonitor(IReadOnlyList<string> folders, AlertSettings settings, EventBus events, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _folders = folders;
        _settings = settings;
        _publisher = new EventPublisher(events, time, unit: null, plugin: null);
        _timer = time.CreateTimer(_ => Check(), null, TimeSpan.Zero, settings.DiskInterval);
    }

    public void Check()
    {
        lock (_gate)
        {
            foreach (var (root, folder, free, total) in Measure())
            {
                var low = (_settings.DiskMinFreeFraction > 0 && free < total * _settings.DiskMinFreeFraction)
                    || (_settings.DiskMinFreeBytes > 0 && free < _settings.DiskMinFreeBytes && total > _settings.DiskMinFreeBytes);
                if (low && _low.Add(root))
                {
                    Publish(AlertRules.DiskLowKind, folder, free, total,
                        $"The disk of {folder} is nearly full: {Size(free)} free of {Size(total)} ({100.0 * free / total:0.#} %).",
                        "Free space there (old logs: DATA/logs/*.log.N, unit data, plugin shadow copies), or move dataDir to a larger disk; when it is full, logs and journal writes are lost.");
                }
                else if (!low && _low.Remove(root))
                {
                    Publish(RecoveredKind, folder, free, total, $"The disk of {folder} has {Size(free)} free again.", "");
                }
            }
        }
    }

    private IEnumerable<(string Root, string Folder, long Free, long Total)> Measure()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in _folders)
        {
            DriveInfo drive;
            try
            {
                var existing = folder;
                while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
                {
                    existing = parent;
                }

                drive = new DriveInfo(existing);
                if (drive.TotalSize <= 0)
                {
                    continue;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                continue;
            }

            var root = MountPoint(Path.GetFullPath(folder));
            if (seen.Add(root))
            {
                yield return (root, folder, drive.AvailableFreeSpace, drive.TotalSize);
            }
        }
    }

    private void Publish(string kind, string folder, long free, long total, string message, string remedy) =>
        _publisher.Publish(kind, new JsonObject
        {
            ["path"] = folder,
            ["freeBytes"] = free,
            ["totalBytes"] = total,
            ["message"] = message,
            ["remedy"] = remedy,
        });

    /// <summary>The file system a folder is on, as its mount point (Linux: the longest mount in /proc/self/mounts above it); "/" elsewhere.</summary>
    private static string MountPoint(string path)
    {
        try
        {
            var best = "/";
            foreach (var line in File.ReadLines("/proc/self/mounts"))
            {
                var point = line.Split(' ') is { Length: > 1 } fields ? fields[1].Replace("\\040", " ", StringComparison.Ordinal) : "";
                if (point.Length > best.Length && (path == point || path.StartsWith(point + "/", StringComparison.Ordinal)))
                {
                    best = point;
                }
            }

            return best;
        }
        catch (IOException)
        {
            return "/"; // no /proc (macOS): the folders are taken as one file system
        }
    }

    private static string Size(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.#} GiB" : $"{bytes / (double)(1L << 20):0.#} MiB";

    public void Dispose() => _timer.Dispose();
}
