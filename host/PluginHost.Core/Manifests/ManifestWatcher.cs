using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Core.Events;
using PluginHost.Core.IO;

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

    public ManifestWatcher(string directory, UnitSet initial, IUnitKindResolver kinds, EventBus bus, TimeProvider time,
        TimeSpan? debounce, Func<ManifestDiff, UnitSet, CancellationToken, Task> apply, ILogger<ManifestWatcher> logger)
    {
        _directory = directory;
        _current = initial;
        _kinds = kinds;
        _apply = apply;
        _events = new EventPublisher(bus, time, unit: null, plugin: null);
        _logger = logger;
        if (debounce is { } quiet)
        {
            _watcher = new DebouncedFolderWatcher(directory, includeSubdirectories: false, quiet, time, paths =>
            {
                if (paths.Any(p => ManifestPaths.IsUnitFile(p) || p == directory))
                {
                    _ = ReloadAsync(_stopping.Token);
                }
            });
        }
    }

    /// <summary>The last good unit set.</summary>
    public UnitSet Current => Volatile.Read(ref _current);

    /// <summary>Re-reads the folder now; applies the diff when valid, keeps the last good set when not.</summary>
    public async Task<ManifestReload> ReloadAsync(CancellationToken cancellationToken)
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
                return new ManifestReload(diff, []);
            }

            await _apply(diff, result.Units, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _current, result.Units);
            _events.Publish(HostEventKinds.ManifestApplied, new JsonObject
            {
                ["added"] = Names(diff.Added),
                ["removed"] = Names(diff.Removed),
                ["changed"] = Names(diff.Changed),
            });
            LogApplied(diff.ToString());
            return new ManifestReload(diff, []);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Reject(IReadOnlyList<ManifestProblem> problems)
    {
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
        _watcher?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Manifests changed: {Diff}")]
    private partial void LogApplied(string diff);

    [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Manifest edit rejected ({Count} problem(s)); the last good configuration keeps running:\n{Problems}")]
    private partial void LogRejected(int count, string problems);
}

/// <summary>The outcome of a manifest reload: a diff (possibly empty) that was applied, or the problems that stopped it.</summary>
internal sealed record ManifestReload(ManifestDiff? Applied, IReadOnlyList<ManifestProblem> Problems)
{
    public bool Rejected => Applied is null;
}
