using System.Text.Json;

namespace PluginHost.Plugins.Shimmy;

/// <summary>shimmy's events in words, for the event stream and the dashboard.</summary>
internal sealed partial class ShimmyDriver
{
    public string? Summarize(string kind, JsonElement payload) => kind switch
    {
        "shimmy_ready" => $"ready on port {PayloadText.Of(payload, "port")} ({(PayloadText.Has(payload, "accel") ? PayloadText.Of(payload, "accel") : "?")}{(PayloadText.Has(payload, "model") ? ", " + PayloadText.Of(payload, "model") : "")})",
        "shimmy_failed" => $"{PayloadText.Of(payload, "code")}: {PayloadText.Of(payload, "message")} → {PayloadText.Of(payload, "remedy")}",
        "shimmy_state" => PayloadText.Of(payload, "state") + (PayloadText.Has(payload, "reason") ? $": {PayloadText.Of(payload, "reason")}" : ""),
        "shimmy_download_started" => $"downloading {PayloadText.Of(payload, "model")}",
        "shimmy_download_progress" => PayloadText.Has(payload, "percent") ? $"{PayloadText.Of(payload, "model")}: {PayloadText.Of(payload, "percent")} %" : $"{PayloadText.Of(payload, "model")}: {PayloadText.Of(payload, "bytes")} bytes",
        "shimmy_download_done" => $"{PayloadText.Of(payload, "model")} downloaded in {PayloadText.Of(payload, "attempts")} attempt(s)",
        "shimmy_download_failed" => $"{PayloadText.Of(payload, "model")}: {PayloadText.Of(payload, "message")}",
        "shimmy_accel_fallback" => $"{PayloadText.Of(payload, "requested")} is not available: running on {PayloadText.Of(payload, "using")}",
        _ => null,
    };
}
