using System.CommandLine;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary><c>pluginhost events [--unit NAME] [--since ID]</c>: the host's event stream, one line per event, until Ctrl-C.</summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var unit = new Option<string?>("--unit") { Description = "Only this unit's events." };
        var since = new Option<long?>("--since") { Description = "Replay from after this event id (what a reconnect sends as Last-Event-ID)." };
        var command = new Command("events", "Follow the host's events: state changes, exits, plugin reloads, gaps.") { unit, since, ClientCommand.Json };
        ClientCommand.SetAction(command, async (parse, client, cancellationToken) =>
        {
            var query = new List<string>();
            if (parse.GetValue(unit) is { } name)
            {
                query.Add("unit=" + Uri.EscapeDataString(name));
            }

            if (parse.GetValue(since) is { } id)
            {
                query.Add("since=" + id);
            }

            await using var stream = await client.OpenStreamAsync("/api/events" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), cancellationToken).ConfigureAwait(false);
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                if (parse.GetValue(ClientCommand.Json))
                {
                    Console.WriteLine(item.Data);
                    continue;
                }

                using var e = JsonDocument.Parse(item.Data);
                Print(item.EventType, e.RootElement);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(string type, JsonElement e)
    {
        if (type == "gap")
        {
            AnsiConsole.MarkupLine($"[yellow]gap: {e.GetProperty("missed").GetInt64()} events missed ({Markup.Escape(e.GetProperty("reason").GetString() ?? "")})[/]");
            return;
        }

        var time = e.GetProperty("timestamp").GetDateTimeOffset().ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        var payload = e.GetProperty("payload");
        var text = e.GetProperty("kind").GetString() == "unit_state"
            ? $"{UnitView.Text(payload, "from")} → {UnitView.State(UnitView.Text(payload, "to"))} [grey]{Markup.Escape(UnitView.Text(payload, "reason"))}[/]"
            : e.TryGetProperty("summary", out var summary) && summary.ValueKind == System.Text.Json.JsonValueKind.String
                ? Markup.Escape(summary.GetString()!) // worded by the host or the event's plugin
                : Markup.Escape(payload.GetRawText());
        var unit = UnitView.Text(e, "unit");
        AnsiConsole.MarkupLine($"[grey]{time} #{e.GetProperty("id").GetInt64()}[/] [bold]{Markup.Escape(e.GetProperty("kind").GetString() ?? "")}[/]{(unit == "–" ? "" : " " + Markup.Escape(unit))} {text}");
    }
}
