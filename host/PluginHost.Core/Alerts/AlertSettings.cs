namespace PluginHost.Core.Alerts;

/// <summary>
/// host.yaml's <c>alerts:</c> section — what counts as an alert and where alerts go. Defaults: the
/// alerts log on, no webhook, more than 5 restarts of a unit within 10 minutes, less than 10 % or
/// 1 GiB free where the host writes (checked every minute), ports checked every 10 s, the same
/// alert again only after 10 minutes.
/// </summary>
internal sealed record AlertSettings
{
    /// <summary>Write <c>DATA/logs/alerts.log</c>, one line per alert.</summary>
    public bool Log { get; init; } = true;

    public Uri? WebhookUrl { get; init; }

    /// <summary>An environment variable holding a bearer token for the webhook (never written in host.yaml).</summary>
    public string? WebhookTokenVariable { get; init; }

    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Tries per alert, backing off 1 s, 2 s, 4 s… between them.</summary>
    public int WebhookAttempts { get; init; } = 6;

    public int RestartCount { get; init; } = 5;

    public TimeSpan RestartWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A fraction of the disk (0.1 = 10 %) below which free space is an alert; 0 for none.</summary>
    public double DiskMinFreeFraction { get; init; } = 0.10;

    /// <summary>Free bytes below which the disk is nearly full whatever its size; 0 for none.</summary>
    public long DiskMinFreeBytes { get; init; } = 1L << 30;

    public TimeSpan DiskInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Null: running units' ports are not checked (a conflict before a start is still named).</summary>
    public TimeSpan? PortInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RepeatAfter { get; init; } = TimeSpan.FromMinutes(10);

    public static AlertSettings Default { get; } = new();
}
