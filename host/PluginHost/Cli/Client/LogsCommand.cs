using System.CommandLine;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary><c>pluginhost logs NAME [-n N] [-f]</c>: a unit's captured output, and with -f every new line until Ctrl-C.</summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The unit." };
        var lines = new Option<int>("--lines", "-n") { Description = "How many of the latest lines to show first.", DefaultValueFactory = _ => 100 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until Ctrl-C." };
        var command = new Command("logs", "Print a unit's captured stdout/stderr (timestamped), optionally following it.") { name, lines, follow };
        ClientCommand.SetAction(command, async (parse, client, cancellationToken) =>
        {
            var path = "/api/units/" + ClientCommand.Path(parse.GetValue(name)!) + "/logs";
            var tail = Math.Clamp(parse.GetValue(lines), 1, 10_000);
            if (!parse.GetValue(follow))
            {
                foreach (var line in (await client.GetAsync($"{path}?tail={tail}", cancellationToken).ConfigureAwait(false)).EnumerateArray())
                {
                    Print(line);
                }

                return ExitCodes.Ok;
            }

            await using var stream = await client.OpenStreamAsync($"{path}?follow=true&tail={tail}", cancellationToken).ConfigureAwait(false);
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                if (item.EventType != SseParser.EventTypeDefault)
                {
                    continue; // "following": the backlog is complete
                }

                using var line = JsonDocument.Parse(item.Data);
                Print(line.RootElement);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(JsonElement line)
    {
        var time = line.GetProperty("timestamp").GetDateTimeOffset().ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        var text = Markup.Escape(line.GetProperty("text").GetString() ?? "");
        AnsiConsole.MarkupLine(line.GetProperty("stream").GetString() == "stderr" ? $"[grey]{time}[/] [red]{text}[/]" : $"[grey]{time}[/] {text}");
    }
}
