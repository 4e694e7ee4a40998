using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Manifests;

namespace PluginHost.Core.Plugins;

/// <summary>
/// The loaded plugins and the unit kinds they provide: looked up without a lock by the engine and
/// the API, changed one folder at a time by the <see cref="PluginReloader"/> (loads, hot reloads).
/// A failed load or reload never disturbs what is running.
/// </summary>
internal sealed class PluginCatalog : IUnitKindResolver, IAsyncDisposable
{
    private readonly PluginReloader _reloader;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PluginSnapshot _snapshot = PluginSnapshot.Empty;
    private ISupervisedUnits? _units;

    public PluginCatalog(string shadowRoot, EventBus bus, TimeProvider time, ILogger<PluginCatalog> logger)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _reloader = new PluginReloader(this, new PluginLoader(shadowRoot, time), bus, time, logger);
    }

    public IReadOnlyCollection<string> Kinds => Current.Kinds.Keys.ToArray();

    /// <summary>Supervision registers here so that reloads hand its units over.</summary>
    public void AttachUnits(ISupervisedUnits units) => _units = units;

    public IUnitDriver? FindDriver(string kind) =>
        Current.Kinds.TryGetValue(kind, out var plugin) && plugin.Drivers.TryGetValue(kind, out var driver) ? driver : null;

    /// <summary>The plugin currently providing <paramref name="kind"/>.</summary>
    public LoadedPlugin? PluginOfKind(string kind) => Current.Kinds.GetValueOrDefault(kind);

    public LoadedPlugin? Find(string name) => Current.Plugins.GetValueOrDefault(name);

    /// <summary>Every unit format the loaded plugins offer (import / export), by name, with the plugin that offers it.</summary>
    public IReadOnlyList<(string Plugin, Contracts.Formats.IUnitFormat Format)> Formats() =>
        [.. Current.Plugins.Values.SelectMany(p => p.Formats.Values.Select(f => (p.Name, f))).OrderBy(f => f.Item2.Name, StringComparer.Ordinal)];

    public string? WhyMissing(string kind)
    {
        var failed = Current.Failures.Values.FirstOrDefault(f => f.Kinds.Contains(kind, StringComparer.Ordinal));
        return failed is null ? null : $"plugin \"{failed.Name}\" that provides it failed to load: {failed.Error.Message}";
    }

    public IReadOnlyList<PluginStatus> List()
    {
        var snapshot = Current;
        var loaded = snapshot.Plugins.Values.Select(p =>
        {
            snapshot.Failures.TryGetValue(p.SourceDirectory, out var reloadFailure);
            return new PluginStatus(p.Name, p.SourceDirectory, p.Descriptor.Version, p.Descriptor.ContractsVersion, [.. p.Drivers.Keys.Order()],
                PluginLoadState.Loaded, p.Generation, reloadFailure is null ? null : "last reload failed: " + reloadFailure.Error.Message, reloadFailure?.Error.Remedy);
        });
        var failed = snapshot.Failures.Values
            .Where(f => !snapshot.Plugins.Values.Any(p => p.SourceDirectory == f.SourceDirectory))
            .Select(f => new PluginStatus(f.Name, f.SourceDirectory, f.Version, f.ContractsVersion, f.Kinds, PluginLoadState.Failed, 0, f.Error.Message, f.Error.Remedy));
        return [.. loaded.Concat(failed).OrderBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>Loads every plugin folder (a sub-folder holding a plugin.yaml) under the given roots.</summary>
    public async Task LoadDirectoriesAsync(IEnumerable<string> roots, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(roots);
        foreach (var folder in roots.SelectMany(FindPluginFolders).Distinct(StringComparer.Ordinal))
        {
            await LoadOrReloadAsync(folder, cancellationToken).ConfigureAwait(false);
        }
    }

    public static IEnumerable<string> FindPluginFolders(string root)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        return Directory.EnumerateDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, PluginDescriptor.FileName)))
            .Select(Path.GetFullPath)
            .Order(StringComparer.Ordinal);
    }

    /// <summary>Reloads the plugin called <paramref name="name"/> from the folder it was loaded from.</summary>
    public Task<ReloadOutcome> ReloadAsync(string name, CancellationToken cancellationToken)
    {
        var snapshot = Current;
        var folder = snapshot.Plugins.TryGetValue(name, out var plugin)
            ? plugin.SourceDirectory
            : snapshot.Failures.Values.FirstOrDefault(f => f.Name == name)?.SourceDirectory;
        return folder is null
            ? Task.FromResult(new ReloadOutcome(name, false, null, null, TimeSpan.Zero, 0, 0, null, $"no plugin named \"{name}\" is known"))
            : LoadOrReloadAsync(folder, cancellationToken);
    }

    /// <summary>Loads the plugin in <paramref name="sourceDirectory"/>, or hot-reloads it when a version from that folder runs.</summary>
    public async Task<ReloadOutcome> LoadOrReloadAsync(string sourceDirectory, CancellationToken cancellationToken)
    {
        sourceDirectory = Path.GetFullPath(sourceDirectory);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var old = Current.Plugins.Values.FirstOrDefault(p => p.SourceDirectory == sourceDirectory);
            return await _reloader.SwapAsync(sourceDirectory, old, _units, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>True when the folder's content differs from the version loaded from it (or none is).</summary>
    public bool HasChanged(string sourceDirectory)
    {
        var loaded = Current.Plugins.Values.FirstOrDefault(p => p.SourceDirectory == Path.GetFullPath(sourceDirectory));
        try
        {
            return loaded is null || loaded.ContentStamp != ContentStamp.Of(sourceDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>What the catalog holds now; a reader never sees a change half made.</summary>
    internal PluginSnapshot Current => Volatile.Read(ref _snapshot);

    /// <summary>Replaces what the catalog holds; only the reloader calls it, under the catalog's gate.</summary>
    internal void Replace(PluginSnapshot snapshot) => Volatile.Write(ref _snapshot, snapshot);

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var snapshot = Current;
            Replace(PluginSnapshot.Empty);
            await _reloader.UnloadAllAsync(snapshot.Plugins.Values).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        _gate.Dispose();
    }
}
