using System.Globalization;
using System.Text.Json;

namespace PluginHost.Core.Events;

/// <summary>
/// One line saying what an event means, made when it is published and carried with it (the
/// dashboard, the CLI's events and any SSE client show it). The host words its own kinds here; a
/// plugin words its own through <c>IUnitDriver.Summarize</c>; anything else falls back to the
/// payload's message, reason or line.
/// </summary>
internal static class EventSummaries
{
    public static string? Host(string kind, JsonElement p) => kind switch
    {
        "unit_state" => $"{S(p, "from")} → {S(p, "to")}: {S(p, "reason")}",
        "unit_exited" => $"pid {S(p, "pid")} exited" + (Has(p, "signal") ? $", signal {S(p, "signal")}" : $", code {S(p, "code")}")
            + (p.TryGetProperty("forced", out var forced) && forced.ValueKind == JsonValueKind.True ? " (killed after the grace period)" : ""),
        "alert" or "port_conflict" or "unit_gave_up" or "unit_supervision_fault" or "manifest_apply_failed" or "storage_failed" or "output_holder_lost" => Coded(p),
        "plugin_loaded" => $"{S(p, "plugin")} {S(p, "version")}".Trim(),
        "plugin_reloaded" => $"{S(p, "plugin")} {S(p, "from")} → {S(p, "to")}".Trim(),
        "plugin_unloaded" => $"{S(p, "plugin")} {S(p, "version")} unloaded",
        "plugin_unload_leak" => $"{S(p, "plugin")} {S(p, "version")} was not collected: {S(p, "hint")}",
        "manifest_applied" => (p.TryGetProperty("recovered", out var r) && r.ValueKind == JsonValueKind.True ? "valid again; " : "")
            + $"added [{List(p, "added")}], removed [{List(p, "removed")}], changed [{List(p, "changed")}]",
        "manifest_rejected" => p.TryGetProperty("problems", out var problems) && problems.ValueKind == JsonValueKind.Array
            ? $"{problems.GetArrayLength()} problem(s): {(problems.GetArrayLength() > 0 ? problems[0].GetString() : "")}" : null,
        "disk_low" or "disk_ok" => S(p, "message"),
        "storage_recovered" => $"{S(p, "component")} writable again after {S(p, "failedSeconds")} s; lost: {S(p, "lost")}",
        "output_holder_replaced" => $"output holder {S(p, "pid")} died; {S(p, "replacement")} holds the pipes now",
        "unit_handed_over" => $"pid {S(p, "pid")} handed over to version {S(p, "version")}", // the plugin is the event's own field
        _ => null,
    };

    /// <summary>When neither the host nor the plugin words a kind: what the payload says of itself.</summary>
    public static string? Generic(JsonElement p) =>
        p.ValueKind != JsonValueKind.Object ? null
        : Has(p, "message") ? S(p, "message")
        : Has(p, "reason") ? S(p, "reason")
        : Has(p, "line") ? (Has(p, "skipped") ? $"({S(p, "skipped")} lines skipped) " : "") + S(p, "line")
        : null;

    private static string Coded(JsonElement p) => $"{S(p, "code")}: {S(p, "message")} → {S(p, "remedy")}";

    private static bool Has(JsonElement p, string name) => p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    private static string S(JsonElement p, string name) => p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v)
        ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Null => "",
            _ => v.GetRawText(),
        }
        : "";

    private static string List(JsonElement p, string name) => p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
        ? string.Join(", ", v.EnumerateArray().Select(e => e.GetString()))
        : "";
}
