namespace PluginHost.Contracts.Supervision;

/// <summary>
/// Readiness decides when a starting unit is ready (no probe: ready once the process runs);
/// liveness restarts a ready unit that stops answering.
/// </summary>
public sealed record HealthSettings
{
    public ProbeDefinition? Readiness { get; init; }

    public ProbeDefinition? Liveness { get; init; }

    /// <summary>How long readiness may take before the start fails. Default 30 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static HealthSettings Default { get; } = new();
}
