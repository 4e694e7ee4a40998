using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary>How the CLI shows units: state colours and human units, the same as the dashboard.</summary>
internal static class UnitView
{
    public static string State(string? state) => state switch
    {
        "ready" => "[green]ready[/]",
        "starting" or "restarting" => $"[blue]{state}[/]",
        "backoff" or "stopping" => $"[yellow]{state}[/]",
        "failed" => "[red]failed[/]",
        null => "?",
        _ => $"[grey]{Markup.Escape(state)}[/]",
    };

    public static string Uptime(JsonElement seconds)
    {
        if (seconds.ValueKind != JsonValueKind.Number)
        {
            return "–";
        }

        var s = (long)seconds.GetDouble();
        return s switch
        {
            < 60 => $"{s}s",
            < 3600 => $"{s / 60}m {s % 60:00}s",
            < 86400 => $"{s / 3600}h {s % 3600 / 60:00}m",
            _ => $"{s / 86400}d {s % 86400 / 3600}h",
        };
    }

    public static string Cpu(JsonElement value) => value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.0", CultureInfo.InvariantCulture) + "%" : "–";

    public static string Rss(JsonElement value) => value.ValueKind == JsonValueKind.Number ? (value.GetDouble() / 1048576).ToString("0.0", CultureInfo.InvariantCulture) + " MB" : "–";

    public static string Ports(JsonElement ports) =>
        ports.ValueKind == JsonValueKind.Object && ports.EnumerateObject().Any() ? string.Join(", ", ports.EnumerateObject().Select(p => p.Value.GetInt32())) : "–";

    public static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()
            : "–";

    public static string Error(JsonElement unit, bool withRemedy) =>
        unit.TryGetProperty("lastError", out var error) && error.ValueKind == JsonValueKind.Object
            ? $"[red]{Markup.Escape(Text(error, "code"))}[/] {Markup.Escape(Text(error, "message"))}" + (withRemedy ? $"\n[grey]→ {Markup.Escape(Text(error, "remedy"))}[/]" : "")
            : "";
}
