namespace PluginHost.Contracts.Units;

/// <summary>
/// A failure as a person reads it, the same on CLI, API and dashboard: a stable code
/// (e.g. <c>PORT_IN_USE</c>), what happened, and what to do next.
/// </summary>
public sealed record UnitError(string Code, string Message, string Remedy)
{
    /// <summary>The host's generic wording, for drivers that have nothing more specific to say.</summary>
    public static UnitError FromFailure(UnitFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Kind switch
        {
            FailureKind.SpawnFailed => new("SPAWN_FAILED", $"The program could not be started: {failure.Message}",
                "Check that the command exists, is executable and that the working directory exists."),
            FailureKind.ExitedDuringStart => new("EXITED_DURING_START", $"The process exited before it was ready: {failure.Message}",
                "Read the unit's recent output (logs) for the reason, fix it, then start the unit again."),
            FailureKind.Crashed => new("CRASHED", $"The process exited unexpectedly: {failure.Message}",
                "Read the unit's recent output (logs); the host restarts it according to its restart policy."),
            FailureKind.ReadinessTimeout => new("START_TIMEOUT", $"The unit did not become ready in time: {failure.Message}",
                "Check the unit's logs; raise health.startTimeout if it is just slow to start."),
            FailureKind.LivenessFailed => new("HEALTHCHECK_FAILED", $"The unit stopped answering its health check: {failure.Message}",
                "Check the unit's logs and the health section of its manifest."),
            FailureKind.PortUnavailable => new("PORT_IN_USE", $"No free port: {failure.Message}",
                "Stop the program holding the port, or change the unit's preferred port or scan range."),
            FailureKind.PreflightFailed => new("PREFLIGHT_FAILED", failure.Message,
                "Fix the unit's manifest or environment as described, then start it again."),
            FailureKind.GaveUp => new("RESTART_LIMIT", $"The unit failed too often and was given up: {failure.Message}",
                "Fix the cause shown in the logs, then start the unit again."),
            _ => new("UNIT_FAILED", failure.Message, "Check the unit's logs."),
        };
    }
}

/// <summary>Thrown by a driver (typically from <see cref="IUnitDriver.PrepareAsync"/>) to fail with a coded error.</summary>
public sealed class UnitErrorException : Exception
{
    public UnitErrorException(UnitError error)
        : base(error?.Message)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    public UnitErrorException()
        : this(new UnitError("UNIT_FAILED", "The unit failed.", "Check the unit's logs."))
    {
    }

    public UnitErrorException(string message)
        : this(new UnitError("UNIT_FAILED", message, "Check the unit's logs."))
    {
    }

    public UnitErrorException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = new UnitError("UNIT_FAILED", message, "Check the unit's logs.");
    }

    public UnitError Error { get; }
}
