namespace PluginHost.Contracts.Specs;

/// <summary>
/// A node of a manifest's plugin-owned <c>spec</c> section, carrying where it was written so that
/// a plugin's validation problems point at file:line:column. Host-owned types only: a plugin never
/// needs a YAML library to read its spec.
/// </summary>
public abstract class SpecNode
{
    private protected SpecNode(string path, SourceLocation location)
    {
        Path = path;
        Location = location;
    }

    /// <summary>The field path from the manifest root, e.g. <c>spec.args[1]</c>.</summary>
    public string Path { get; }

    public SourceLocation Location { get; }

    /// <summary>A short description of the node for messages: <c>a mapping</c>, <c>"abc"</c>…</summary>
    public abstract string Describe();
}

/// <summary>A scalar; <see cref="Value"/> is null for YAML null (<c>~</c>, <c>null</c> or empty).</summary>
public sealed class SpecScalar(string path, SourceLocation location, string? value, bool quoted) : SpecNode(path, location)
{
    public string? Value { get; } = value;

    /// <summary>True when written in quotes: then <c>"true"</c> is a string, not a boolean.</summary>
    public bool Quoted { get; } = quoted;

    public override string Describe() => Value is null ? "null" : $"\"{Value}\"";
}

public sealed class SpecSequence(string path, SourceLocation location, IReadOnlyList<SpecNode> items) : SpecNode(path, location)
{
    public IReadOnlyList<SpecNode> Items { get; } = items;

    public override string Describe() => "a list";
}

/// <summary>A mapping with its keys in the order written.</summary>
public sealed class SpecMapping : SpecNode
{
    private readonly Dictionary<string, SpecEntry> _entries;

    public SpecMapping(string path, SourceLocation location, IEnumerable<SpecEntry> entries)
        : base(path, location)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = entries.ToArray();
        _entries = new Dictionary<string, SpecEntry>(StringComparer.Ordinal);
        foreach (var entry in Entries)
        {
            _entries.TryAdd(entry.Key, entry);
        }
    }

    public static SpecMapping Empty(string path) => new(path, SourceLocation.None, []);

    public IReadOnlyList<SpecEntry> Entries { get; }

    public SpecNode? this[string key] => _entries.TryGetValue(key, out var entry) ? entry.Value : null;

    public bool TryGetEntry(string key, out SpecEntry entry) => _entries.TryGetValue(key, out entry!);

    public override string Describe() => "a mapping";
}

/// <summary>One key of a mapping and where the key itself was written.</summary>
public sealed record SpecEntry(string Key, SourceLocation KeyLocation, SpecNode Value);
