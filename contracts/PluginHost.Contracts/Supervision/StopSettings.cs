namespace PluginHost.Contracts.Supervision;

/// <summary>The stop signal sent to the unit's whole process group, then SIGKILL after the grace period.</summary>
public sealed record StopSettings(UnixSignal Signal, TimeSpan Grace)
{
    public static StopSettings Default { get; } = new(UnixSignal.Term, TimeSpan.FromSeconds(5));
}

/// <summary>Signals a unit may be stopped with (Linux numbers; the host maps them per platform).</summary>
public enum UnixSignal
{
    Hup = 1,
    Int = 2,
    Quit = 3,
    Kill = 9,
    Usr1 = 10,
    Usr2 = 12,
    Term = 15,
}
