namespace PluginHost.Core.Storage;

/// <summary>
/// What the journal keeps about a unit's running process so that a restarted host can find it
/// again: pid and start time (together they identify the process, so a recycled pid is never
/// adopted), its session, the output holder that keeps its pipes open, and its ports.
/// </summary>
internal sealed record ProcessRecord(
    string Unit,
    int Pid,
    int Session,
    long StartTimeTicks,
    int HolderPid,
    long HolderStartTimeTicks,
    DateTimeOffset StartedAt,
    IReadOnlyDictionary<string, int> Ports,
    string Fingerprint,
    string? OutputEventKind = null,
    int OutputEventsPerSecond = 0,
    string? StandardOutPath = null,
    string? StandardErrorPath = null);
