using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.IO;
using PluginHost.Core.Storage;

namespace PluginHost.Core.Manifests;

/// <summary>
/// Keeps the unit set in step with the manifests folder. An edit is validated as a whole; a valid
/// folder produces a diff for the engine to apply, a broken one is reported (every problem, with
/// file:line:column) and the last good configuration keeps running untouched.
/// </summary>
internal sealed partial class ManifestWatcher : IDisposable
{
    private readonly string _directory;
    private readonly IUnitKindResolver _kinds;
    private readonly Func<ManifestDiff, UnitSet, CancellationToken, Task> _apply;
    private readonly EventPublisher _events;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly DebouncedFolderWatcher? _watcher;
    private readonly CancellationTokenSource _stopping = new();
    private UnitSet _current;

    // The last edit was rejected or failed to apply: the next good one says it was taken.
    private bool _failing;
    private UnitError? _lastFailure;
    private readonly ITimer _retry;

    /// <summary>How soon an edit that failed for want of disk space is tried again.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    public ManifestWatcher(string directory, UnitSet initial, IUnitKindResolver kinds, EventBus bus, TimeProvider time,
        TimeSpan? debounce, Func<ManifestDiff, UnitSet, CancellationToken, Task> apply, ILogger<ManifestWatcher> logger)
    {
        _directory = directory;
        _current = initial;
        _kinds = kinds;
        _apply = apply;
        _events = new EventPublisher(bus, time, unit: null, plugin: null);
        _logger = logger;
        _retry = time.CreateTimer(_ => _ = ReloadFromWatchAsync(retry: true), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (debounce is { } quiet)
        {
            _watcher = new DebouncedFolderWatcher(directory, includeSubdirectories: false, quiet, time, paths =>
            {
                if (paths.Any(p => ManifestPaths.IsUnitFile(p) || p == directory))
                {
                    _ = ReloadFromWatchAsync();
                }
            });
        }
    }

    /// <summary>The last good unit set.</summary>
    public UnitSet Current => Volatile.Read(ref _current);

    /// <summary>
    /// Re-reads the folder now; applies the diff when valid, keeps the last good set when not (a
    /// broken file, or an edit the engine could not set up: it applies all of an edit or none of it).
    /// </summary>
    public Task<ManifestReload> ReloadAsync(CancellationToken cancellationToken) => ReloadAsync(retry: false, cancellationToken);

    private async Task<ManifestReload> ReloadAsync(bool retry, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);

        try
        {
            var result = UnitSetLoader.Load(_directory, _kinds);
            if (result.Units is null)
            {
                Reject(result.Problems);
                return new ManifestReload(null, result.Problems);
            }

            var diff = ManifestDiff.Between(Current, result.Units);
            if (diff.IsEmpty)
            {
                Volatile.Write(ref _current, result.Units);
                if (_failing)
                {
                    Accept(diff);
                }

                return new ManifestReload(diff, []);
            }

            try
            {
                await _apply(diff, result.Units, cancellationToken).ConfigureAwait(false);
            }
            catch (UnitErrorException ex)
            {
                ApplyFailed(diff, ex.Error, retry);
                return new ManifestReload(null, [], ex.Error);
            }

            Volatile.Write(ref _current, result.Units);
            Accept(diff);
            return new ManifestReload(diff, []);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A reload the folder watch asked for: nobody awaits it, so every outcome is an event and a log line here.</summary>
    private async Task ReloadFromWatchAsync(bool retry = false)
    {
        try
        {
            await ReloadAsync(retry, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A host bug: the engine may not match the manifests any more, so say it loudly.
            var error = new UnitError("HOST_ERROR", $"Applying the manifest edit failed: {ex.GetType().Name}: {ex.Message}",
                "Report this host bug with the host's log; `pluginhost status` shows what runs, restarting the host re-reads the manifests.");
            _failing = true;
            _events.Publish(HostEventKinds.ManifestApplyFailed, Describe(error, null));
            LogApplyFailed(error.Code, error.Message, error.Remedy, ex);
        }
    }

    private void Accept(ManifestDiff diff)
    {
        var recovered = _failing;
        _failing = false;
        _lastFailure = null;
        _events.Publish(HostEventKinds.ManifestApplied, new JsonObject
        {
            ["added"] = Names(diff.Added),
            ["removed"] = Names(diff.Removed),
            ["changed"] = Names(diff.Changed),
            ["recovered"] = recovered,
        });
        if (recovered)
        {
            LogRecovered(diff.ToString());
        }
        else
        {
            LogApplied(diff.ToString());
        }
    }

    private void ApplyFailed(ManifestDiff diff, UnitError error, bool retry)
    {
        _failing = true;
        if (!retry || error != _lastFailure)
        {
            // A retry that fails the same way again is not news.
            _events.Publish(HostEventKinds.ManifestApplyFailed, Describe(error, diff));
            LogApplyFailed(error.Code, error.Message, error.Remedy, null);
        }

        _lastFailure = error;
        if (error.Code == DiskErrors.DiskFullCode)
        {
            // Space comes back without anyone saving a file: try the same edit again by itself.
            _retry.Change(RetryInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private static JsonObject Describe(UnitError error, ManifestDiff? diff) => new()
    {
        ["code"] = error.Code,
        ["message"] = error.Message,
        ["remedy"] = error.Remedy,
        ["added"] = diff is null ? null : Names(diff.Added),
        ["removed"] = diff is null ? null : Names(diff.Removed),
        ["changed"] = diff is null ? null : Names(diff.Changed),
    };

    private void Reject(IReadOnlyList<ManifestProblem> problems)
    {
        _failing = true;
        _events.Publish(HostEventKinds.ManifestRejected, new JsonObject
        {
            ["problems"] = new JsonArray([.. problems.Select(p => (JsonNode)p.ToString())]),
        });
        LogRejected(problems.Count, string.Join(Environment.NewLine, problems));
    }

    private static JsonArray Names(IEnumerable<UnitManifest> units) => new([.. units.Select(u => (JsonNode)u.Name)]);

    public void Dispose()
    {
        _stopping.Cancel();
        _retry.Dispose();
        _watcher?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Manifests changed: {Diff}")]
    private partial void LogApplied(string diff);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Manifests valid again and applied: {Diff}")]
    private partial void LogRecovered(string diff);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "Manifest edit not applied, none of it [{Code}]: {Message} {Remedy}")]
    private partial void LogApplyFailed(string code, string message, string remedy, Exception? exception);

    [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Manifest edit rejected ({Count} problem(s)); the last good configuration keeps running:\n{Problems}")]
    private partial void LogRejected(int count, string problems);
}

/// <summary>
/// The outcome of a manifest reload: a diff (possibly empty) that was applied, or what stopped it —
/// problems in the files, or a <paramref name="Failure"/> setting up a unit of a valid edit.
/// </summary>
internal sealed record ManifestReload(ManifestDiff? Applied, IReadOnlyList<ManifestProblem> Problems, UnitError? Failure = null)
{
    public bool Rejected => Applied is null;
}
