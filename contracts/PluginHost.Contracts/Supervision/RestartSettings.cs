namespace PluginHost.Contracts.Supervision;

public enum RestartPolicy
{
    Always,
    OnFailure,
    Never,
}

/// <summary>
/// When and how fast a unit is started again. Defaults: on-failure, backoff 1 s doubling to 60 s
/// with 20 % jitter, reset after 60 s of uptime, at most 5 restarts within 60 s (then failed),
/// at least 1 s between two starts (launchd's ThrottleInterval).
/// </summary>
public sealed record RestartSettings
{
    public RestartPolicy Policy { get; init; } = RestartPolicy.OnFailure;

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    public double Multiplier { get; init; } = 2.0;

    /// <summary>Fraction of the delay randomly added or removed, 0 to 1.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>Uptime after which the backoff starts again from <see cref="InitialBackoff"/>.</summary>
    public TimeSpan ResetAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Intensity limit: more than this many restarts within <see cref="Window"/> marks the unit failed.</summary>
    public int MaxRestarts { get; init; } = 5;

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Minimum time between two starts, whatever the backoff says.</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(1);

    public static RestartSettings Default { get; } = new();
}
