namespace PluginHost.Contracts.Units;

/// <summary>The host's lifecycle states, the same for every unit kind.</summary>
public enum UnitState
{
    Idle,
    Starting,
    Ready,
    Backoff,
    Restarting,
    Stopping,
    Stopped,
    Failed,
}

/// <summary>One transition, with the reason it happened.</summary>
public sealed record UnitStateChange(UnitState From, UnitState To, string Reason, DateTimeOffset Timestamp, UnitError? Error = null)
{
    /// <summary>The exit code of the unit's process when this transition follows its exit (since contracts 1.1).</summary>
    public int? ExitCode { get; init; }

    /// <summary>The signal that ended the unit's process when this transition follows its exit (since contracts 1.1).</summary>
    public int? ExitSignal { get; init; }
}
