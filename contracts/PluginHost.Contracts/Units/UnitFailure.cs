namespace PluginHost.Contracts.Units;

/// <summary>What the host observed going wrong, handed to <see cref="IUnitDriver.Classify"/>.</summary>
/// <param name="ExitCode">Null when the process was killed by a signal or its code is unknowable (re-attached process).</param>
/// <param name="Signal">The signal that ended the process, e.g. 9 for SIGKILL.</param>
/// <param name="RecentOutput">The last captured lines of stdout and stderr, oldest first.</param>
public sealed record UnitFailure(
    FailureKind Kind,
    string Message,
    int? ExitCode = null,
    int? Signal = null,
    IReadOnlyList<OutputLine>? RecentOutput = null);

public enum FailureKind
{
    SpawnFailed,
    ExitedDuringStart,
    Crashed,
    ReadinessTimeout,
    LivenessFailed,
    PortUnavailable,
    PreflightFailed,
    GaveUp,
    OperationFailed,
}
