namespace PluginHost.Core.Plugins;

/// <summary>
/// What the catalog holds, replaced whole: readers take it with a volatile read and never see a
/// change half made. Plugins are few and change rarely, so each change copies (plain dictionaries:
/// the immutable collections' assembly alone kept ≈ 1 MB resident).
/// </summary>
internal sealed record PluginSnapshot(
    IReadOnlyDictionary<string, LoadedPlugin> Plugins,
    IReadOnlyDictionary<string, LoadedPlugin> Kinds,
    IReadOnlyDictionary<string, FailedLoad> Failures)
{
    public static PluginSnapshot Empty { get; } = new(Copy<LoadedPlugin>([]), Copy<LoadedPlugin>([]), Copy<FailedLoad>([]));

    /// <summary>With <paramref name="loaded"/> in place of <paramref name="old"/> (its kinds too), and its folder's last failure forgotten.</summary>
    public PluginSnapshot With(LoadedPlugin loaded, LoadedPlugin? old)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        var plugins = Copy(Plugins.Where(p => p.Key != old?.Name));
        plugins[loaded.Name] = loaded;
        var kinds = Copy(Kinds.Where(k => old is null || !old.Drivers.ContainsKey(k.Key)));
        foreach (var kind in loaded.Drivers.Keys)
        {
            kinds[kind] = loaded;
        }

        return new PluginSnapshot(plugins, kinds, Copy(Failures.Where(f => f.Key != loaded.SourceDirectory)));
    }

    /// <summary>With the latest failure of a folder (what runs from it, if anything, is kept).</summary>
    public PluginSnapshot WithFailure(FailedLoad failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var failures = Copy(Failures);
        failures[failure.SourceDirectory] = failure;
        return this with { Failures = failures };
    }

    private static Dictionary<string, T> Copy<T>(IEnumerable<KeyValuePair<string, T>> entries) => new(entries, StringComparer.Ordinal);
}

/// <summary>A plugin folder whose latest load or reload failed, with what its descriptor could still tell.</summary>
internal sealed record FailedLoad(string Name, string SourceDirectory, string? Version, Version? ContractsVersion, IReadOnlyList<string> Kinds, PluginLoadException Error);
