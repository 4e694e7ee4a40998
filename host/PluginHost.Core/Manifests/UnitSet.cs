namespace PluginHost.Core.Manifests;

/// <summary>A complete, valid set of unit manifests: either all of a folder, or nothing.</summary>
internal sealed record UnitSet(IReadOnlyDictionary<string, UnitManifest> Units)
{
    public static UnitSet Empty { get; } = new(new Dictionary<string, UnitManifest>(StringComparer.Ordinal));

    /// <summary>Unit names in start order: every unit after the units it follows (<c>after:</c>).</summary>
    public IReadOnlyList<string> StartOrder { get; init; } = [];
}

/// <summary>The outcome of loading a manifests folder: a unit set, or every problem found (never both).</summary>
internal sealed record UnitSetResult(UnitSet? Units, IReadOnlyList<ManifestProblem> Problems)
{
    public bool Ok => Units is not null;
}
