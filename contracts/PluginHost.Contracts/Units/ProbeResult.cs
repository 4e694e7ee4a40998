namespace PluginHost.Contracts.Units;

public enum ProbeKind
{
    /// <summary>Has the unit finished starting and can it serve?</summary>
    Readiness,

    /// <summary>Is a ready unit still healthy?</summary>
    Liveness,
}

public sealed record ProbeResult(ProbeStatus Status, string? Detail = null)
{
    public static ProbeResult Healthy { get; } = new(ProbeStatus.Healthy);

    /// <summary>This driver has no probe of its own; the manifest's health section decides.</summary>
    public static ProbeResult Unsupported { get; } = new(ProbeStatus.Unsupported);

    public static ProbeResult Unhealthy(string detail) => new(ProbeStatus.Unhealthy, detail);
}

public enum ProbeStatus
{
    Healthy,
    Unhealthy,
    Unsupported,
}
