using System.Text.Json;

namespace PluginHost.Plugins.PtySession;

/// <summary>A session's events in words, for the event stream and the dashboard.</summary>
internal sealed partial class PtySessionDriver
{
    public string? Summarize(string kind, JsonElement payload) => kind switch
    {
        "crash_detected" => PayloadText.Has(payload, "signal") ? $"killed by signal {PayloadText.Of(payload, "signal")}" : $"exited with code {PayloadText.Of(payload, "code")}",
        "session_started" or "session_restarted" => $"pid {PayloadText.Of(payload, "pid")} on {(PayloadText.Has(payload, "tty") ? PayloadText.Of(payload, "tty") : "a terminal")}"
            + (PayloadText.Has(payload, "sinceCrashMs") ? $", {PayloadText.Of(payload, "sinceCrashMs")} ms after the crash" : ""),
        _ => null,
    };
}
