namespace PluginHost.Core.Manifests;

/// <summary>What changed between two valid unit sets: the engine applies exactly this.</summary>
internal sealed record ManifestDiff(IReadOnlyList<UnitManifest> Added, IReadOnlyList<UnitManifest> Removed, IReadOnlyList<UnitManifest> Changed)
{
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0 && Changed.Count == 0;

    public static ManifestDiff Between(UnitSet before, UnitSet after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var added = after.Units.Values.Where(u => !before.Units.ContainsKey(u.Name)).OrderBy(u => u.Name, StringComparer.Ordinal).ToArray();
        var removed = before.Units.Values.Where(u => !after.Units.ContainsKey(u.Name)).OrderBy(u => u.Name, StringComparer.Ordinal).ToArray();
        var changed = after.Units.Values
            .Where(u => before.Units.TryGetValue(u.Name, out var old) && old.Fingerprint != u.Fingerprint)
            .OrderBy(u => u.Name, StringComparer.Ordinal)
            .ToArray();
        return new ManifestDiff(added, removed, changed);
    }

    public override string ToString() =>
        $"added [{string.Join(", ", Added.Select(u => u.Name))}], removed [{string.Join(", ", Removed.Select(u => u.Name))}], changed [{string.Join(", ", Changed.Select(u => u.Name))}]";
}
