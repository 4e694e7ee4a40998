namespace PluginHost.Contracts.Units;

/// <summary>A driver's answer when asked to take over a running process.</summary>
public sealed record AttachResult(bool Adopted, string? Reason = null)
{
    public static AttachResult Adopt { get; } = new(true);

    /// <summary>The host stops the process and starts the unit afresh; <paramref name="reason"/> is shown.</summary>
    public static AttachResult Refuse(string reason) => new(false, reason);
}
