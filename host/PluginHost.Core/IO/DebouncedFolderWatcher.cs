namespace PluginHost.Core.IO;

/// <summary>
/// Watches a folder and reports the set of changed paths once nothing has changed for a quiet
/// period, so that a build or an editor writing several files produces one notification.
/// The quiet period runs on the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class DebouncedFolderWatcher : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly ITimer _timer;
    private readonly TimeSpan _quiet;
    private readonly Action<IReadOnlyCollection<string>> _onChanged;
    private readonly Lock _gate = new();
    private HashSet<string> _pending = new(StringComparer.Ordinal);
    private bool _disposed;

    public DebouncedFolderWatcher(string path, bool includeSubdirectories, TimeSpan quiet, TimeProvider time, Action<IReadOnlyCollection<string>> onChanged)
    {
        ArgumentNullException.ThrowIfNull(time);
        _quiet = quiet;
        _onChanged = onChanged;
        _timer = time.CreateTimer(_ => Flush(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watcher = new FileSystemWatcher(path)
        {
            IncludeSubdirectories = includeSubdirectories,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Changed += (_, e) => Touch(e.FullPath);
        _watcher.Created += (_, e) => Touch(e.FullPath);
        _watcher.Deleted += (_, e) => Touch(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            Touch(e.OldFullPath);
            Touch(e.FullPath);
        };

        // Lost events (buffer overflow) must not lose a change: report the whole folder as changed.
        _watcher.Error += (_, _) => Touch(path);
        _watcher.EnableRaisingEvents = true;
    }

    private void Touch(string path)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _pending.Add(path);
            _timer.Change(_quiet, Timeout.InfiniteTimeSpan);
        }
    }

    private void Flush()
    {
        HashSet<string> changed;
        lock (_gate)
        {
            if (_disposed || _pending.Count == 0)
            {
                return;
            }

            (changed, _pending) = (_pending, new HashSet<string>(StringComparer.Ordinal));
        }

        _onChanged(changed);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _watcher.Dispose();
        _timer.Dispose();
    }
}
