using Microsoft.Extensions.Logging;
using PluginHost.Core.IO;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Watches the plugin directories and hot-reloads a plugin once its folder has been quiet for the
/// debounce period (a build writes many files). A new plugin folder is loaded; a folder whose
/// content is unchanged is ignored. Reloads run one at a time.
/// </summary>
internal sealed partial class PluginWatcher : IDisposable
{
    private readonly PluginCatalog _catalog;
    private readonly ILogger _logger;
    private readonly List<DebouncedFolderWatcher> _watchers = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task _work = Task.CompletedTask;

    public PluginWatcher(PluginCatalog catalog, IEnumerable<string> roots, TimeSpan debounce, TimeProvider time, ILogger<PluginWatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(roots);
        _catalog = catalog;
        _logger = logger;
        foreach (var root in roots.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            if (!Directory.Exists(root))
            {
                LogMissingRoot(root);
                continue;
            }

            _watchers.Add(new DebouncedFolderWatcher(root, includeSubdirectories: true, debounce, time, paths => OnChanged(root, paths)));
        }
    }

    /// <summary>Completes when every reload started so far has finished (for tests and shutdown).</summary>
    public Task Idle
    {
        get
        {
            lock (_gate)
            {
                return _work;
            }
        }
    }

    private void OnChanged(string root, IReadOnlyCollection<string> paths)
    {
        var folders = paths
            .Select(p => Path.GetRelativePath(root, p))
            .Where(r => r != "." && !r.StartsWith("..", StringComparison.Ordinal))
            .Select(r => Path.Combine(root, r.Split(Path.DirectorySeparatorChar)[0]))
            .Distinct(StringComparer.Ordinal)
            .Where(f => File.Exists(Path.Combine(f, PluginDescriptor.FileName)))
            .ToArray();
        lock (_gate)
        {
            _work = _work.ContinueWith(_ => ReloadAsync(folders), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task ReloadAsync(IEnumerable<string> folders)
    {
        foreach (var folder in folders)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            if (!_catalog.HasChanged(folder))
            {
                continue;
            }

            LogChanged(folder);
            try
            {
                await _catalog.LoadOrReloadAsync(folder, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Plugin folder {Folder} changed; reloading")]
    private partial void LogChanged(string folder);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Plugin directory {Root} does not exist; it is not watched")]
    private partial void LogMissingRoot(string root);
}
