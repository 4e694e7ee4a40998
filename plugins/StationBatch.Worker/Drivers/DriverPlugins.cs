using Microsoft.Extensions.Logging;

namespace PluginHost.Station.Worker.Drivers;

/// <summary>
/// A running worker's equipment drivers, taken up anew when their files change: asked before every
/// execution and manual command (never during one), it loads the driver plugins the batch binds,
/// and when the drivers folder has changed since — a driver rebuilt or installed — it unloads the old
/// ones (closing their instruments), verifies they were collected, and loads the new. A rebuilt
/// driver is used by the next run, and the worker keeps running.
/// </summary>
internal sealed partial class DriverPlugins(string root, IReadOnlyCollection<HardwareBinding> bindings, ILogger log) : IAsyncDisposable
{
    private DriverCatalog? _current;
    private string? _fingerprint;

    /// <summary>Why the drivers could not be loaded the last time they were asked for, if they could not.</summary>
    public WorkerException? LastFailure { get; private set; }

    /// <summary>The drivers as they are on disk now; <paramref name="reloaded"/> says they were loaded anew for this call.</summary>
    /// <exception cref="WorkerException">DRIVER_NOT_FOUND or DRIVER_LOAD_FAILED, naming the slot.</exception>
    public async Task<DriverCatalog> CurrentAsync(Action<string>? reloaded = null)
    {
        var fingerprint = DriverCatalog.Fingerprint(root);
        if (_current is not null && fingerprint == _fingerprint)
        {
            return _current;
        }

        var previous = _current;
        _current = null;
        if (previous is not null)
        {
            var described = previous.Describe();
            if (await previous.UnloadAsync().ConfigureAwait(false))
            {
                LogUnloaded(described);
            }
            else
            {
                LogUnloadLeak(described);
            }
        }

        try
        {
            _current = DriverCatalog.Load(root, bindings);
            _fingerprint = fingerprint;
            LastFailure = null;
        }
        catch (WorkerException ex)
        {
            LastFailure = ex;
            throw;
        }

        if (previous is not null)
        {
            reloaded?.Invoke($"equipment drivers changed under {root}: loaded anew ({_current.Describe()}); the previous ones unloaded");
        }

        return _current;
    }

    public async ValueTask DisposeAsync()
    {
        if (_current is not null)
        {
            await _current.DisposeAsync().ConfigureAwait(false);
            _current = null;
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "equipment driver plugins {Plugins} unloaded and collected")]
    private partial void LogUnloaded(string plugins);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "DRIVER_UNLOAD_LEAK: equipment driver plugins {Plugins} were unloaded but are still in memory (a static, a thread or a timer of theirs holds them); the worker keeps running, and a restart frees them")]
    private partial void LogUnloadLeak(string plugins);
}
