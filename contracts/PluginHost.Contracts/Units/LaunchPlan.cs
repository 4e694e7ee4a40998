using PluginHost.Contracts.Supervision;

namespace PluginHost.Contracts.Units;

/// <summary>
/// What the host should start. Placeholders <c>{port:NAME}</c>, <c>{unit}</c> and <c>{data}</c> in
/// arguments and environment values are replaced by the host with the allocated port, the unit's
/// name and its data directory.
/// </summary>
public sealed record LaunchPlan(string Command)
{
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Added to (and overriding) the host's environment; the manifest's <c>env:</c> is already merged in.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Null means the unit's data directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Pipes (stdout/stderr captured per line) or a pseudo-terminal.</summary>
    public LaunchIo Io { get; init; } = LaunchIo.Pipes;

    /// <summary>Initial terminal size when <see cref="Io"/> is <see cref="LaunchIo.Pty"/>.</summary>
    public TerminalSize TerminalSize { get; init; } = TerminalSize.Default;

    /// <summary>How many bytes of a terminal's output the host keeps for late viewers and <c>Scrollback()</c> (since contracts 1.2).</summary>
    public int ScrollbackBytes { get; init; } = 1024 * 1024;

    /// <summary>Overrides the manifest's stop signal and grace for this launch, when set.</summary>
    public StopSettings? Stop { get; init; }

    /// <summary>
    /// When set, the host also publishes every captured output line as an event of this kind,
    /// <c>{stream, line}</c>, at most <see cref="OutputEventsPerSecond"/> per second; an event that
    /// follows lines left out carries <c>skipped</c>. The unit's log stream keeps every line (since contracts 1.2).
    /// </summary>
    public string? OutputEventKind { get; init; }

    public int OutputEventsPerSecond { get; init; } = 100;

    /// <summary>
    /// A file that also gets every line the process writes to stdout, as written (no timestamps),
    /// besides the host's own capture (since 1.7): launchd's <c>StandardOutPath</c>. Appended to,
    /// rotated with the host's log settings. May be the same file as <see cref="StandardErrorPath"/>.
    /// </summary>
    public string? StandardOutPath { get; init; }

    /// <summary>The same for stderr (launchd's <c>StandardErrorPath</c>), since 1.7.</summary>
    public string? StandardErrorPath { get; init; }
}

public enum LaunchIo
{
    Pipes,
    Pty,
}

public sealed record TerminalSize(int Columns, int Rows)
{
    public static TerminalSize Default { get; } = new(120, 40);
}
