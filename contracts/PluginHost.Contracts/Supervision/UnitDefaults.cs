namespace PluginHost.Contracts.Supervision;

/// <summary>
/// A unit kind's supervision defaults, used where the manifest leaves a section out.
/// Null members mean "the host's default".
/// </summary>
public sealed record UnitDefaults
{
    public RestartSettings? Restart { get; init; }

    public HealthSettings? Health { get; init; }

    public StopSettings? Stop { get; init; }

    /// <summary>False for on-demand kinds that start only when asked (e.g. a sidecar enabled by the user).</summary>
    public bool? Autostart { get; init; }

    public static UnitDefaults None { get; } = new();
}
