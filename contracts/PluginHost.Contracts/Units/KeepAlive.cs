namespace PluginHost.Contracts.Units;

/// <summary>How a unit's last process ended, as <see cref="IUnitDriver.KeepAlive"/> is told it (since 1.7).</summary>
/// <param name="Code">The exit status, when the process exited (null when a signal ended it, or after a host restart, when it is not knowable).</param>
/// <param name="Signal">The signal that ended it, when one did.</param>
public sealed record UnitExit(int? Code, int? Signal)
{
    /// <summary>Exited with status 0 (launchd's "successful exit").</summary>
    public bool Succeeded => Code == 0 && Signal is null;
}

/// <summary>
/// A kind's answer to "should this unit run (again) now?" (since 1.7): launchd's KeepAlive, decided
/// by the driver rather than by the manifest's restart policy.
/// </summary>
/// <param name="Run">True: start it (again), still no sooner than the restart settings' minimum interval after its last start.</param>
/// <param name="Reason">Why, in a person's words ("KeepAlive: /tmp/go exists"): the unit's state reason and its events say it.</param>
public sealed record KeepAliveVerdict(bool Run, string Reason)
{
    /// <summary>
    /// True when the answer may change while the unit rests (a path appears, another unit is enabled):
    /// the host asks again, about once a second, until it says run or the unit is started or stopped by hand.
    /// </summary>
    public bool AskAgain { get; init; }
}
