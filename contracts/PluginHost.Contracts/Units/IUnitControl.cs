namespace PluginHost.Contracts.Units;

/// <summary>
/// A driver's handle on its own unit's supervision (since contracts 1.2), for operations such as a
/// sidecar's <c>start</c>, <c>stop</c> or <c>ensureReady</c>. Requests only say what the unit should
/// do and return at once; the host's loop does the work, exactly as for the API's own routes.
/// </summary>
public interface IUnitControl
{
    /// <summary>The unit's lifecycle state now.</summary>
    UnitState State { get; }

    UnitControlResult Start(string reason);

    UnitControlResult Stop(string reason);

    UnitControlResult Restart(string reason);

    /// <summary>
    /// Stops the unit and leaves it <c>failed</c> with this error, for a limit only the kind knows
    /// (shimmy gives up after one restart that follows a start timeout). An explicit start clears it.
    /// </summary>
    UnitControlResult GiveUp(UnitError error);

    /// <summary>
    /// Completes when the unit is ready (at once if it is). Throws <see cref="UnitErrorException"/>
    /// with the unit's last error when it settles as failed or stopped instead; keeps waiting through
    /// backoff, since the restart policy may still bring it up.
    /// </summary>
    Task WhenReadyAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Completes when the unit runs no process and is not about to start one: stopped, failed or
    /// idle (at once if it is). For a <c>stop</c> that answers only once the stop is done (since contracts 1.3).
    /// </summary>
    Task WhenStoppedAsync(CancellationToken cancellationToken);
}

/// <summary>The answer to a control request: accepted or not, why, and the state when it was answered.</summary>
public sealed record UnitControlResult(bool Success, string Message, UnitState State);
