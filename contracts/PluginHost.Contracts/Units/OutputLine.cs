namespace PluginHost.Contracts.Units;

/// <summary>One captured line of a unit's output, without its line terminator.</summary>
public sealed record OutputLine(OutputStream Stream, string Text, DateTimeOffset Timestamp);

public enum OutputStream
{
    Stdout,
    Stderr,

    /// <summary>A pseudo-terminal merges both streams.</summary>
    Terminal,
}
