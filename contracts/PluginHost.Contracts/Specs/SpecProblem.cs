namespace PluginHost.Contracts.Specs;

/// <summary>
/// One thing wrong with a manifest value: where, what was found, and what is expected instead.
/// Every problem is reported at once; a plugin never stops at the first.
/// </summary>
public sealed record SpecProblem(string Path, SourceLocation Location, string Found, string Expected)
{
    public static SpecProblem At(SpecNode node, string found, string expected)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new SpecProblem(node.Path, node.Location, found, expected);
    }

    public override string ToString() => $"{Location}: {Path}: found {Found}; expected {Expected}";
}
