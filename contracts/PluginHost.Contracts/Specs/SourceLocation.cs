namespace PluginHost.Contracts.Specs;

/// <summary>Where a value was written: file, 1-based line and column.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public static SourceLocation None { get; } = new("", 0, 0);

    public override string ToString() => Line == 0 ? File : $"{File}:{Line}:{Column}";
}
