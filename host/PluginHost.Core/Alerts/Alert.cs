namespace PluginHost.Core.Alerts;

/// <summary>Something an operator should look at now: what, which unit (null for the host), what to do.</summary>
internal sealed record Alert(string Code, string? Unit, string Message, string Remedy, DateTimeOffset At)
{
    public const string EventKind = "alert";

    /// <summary>The alerts log's line: time, code, unit, message — remedy.</summary>
    public string Line => $"{At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {Code} {Unit ?? "host"}: {Message} — {Remedy}";
}
