using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary>
/// <c>pluginhost ops NAME</c> lists what a unit's plugin offers; <c>pluginhost ops NAME OP key=value…</c>,
/// <c>--key value…</c> (or <c>--args '{json}'</c>) runs one, each value typed by the operation's declared parameters.
/// Long-running operations show a progress bar fed by the unit's events. Exit 1 when the operation fails.
/// </summary>
internal static class OpsCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The unit." };
        var op = new Argument<string?>("operation") { Description = "The operation to run; lists them when omitted.", Arity = ArgumentArity.ZeroOrOne };
        var pairs = new Argument<string[]>("arguments") { Description = "The operation's arguments: key=value, or --key value.", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<string?>("--args") { Description = "The arguments as one JSON object (instead of key=value)." };
        // An operation's own parameters are not options of this command: "--slot dmm" is an argument pair.
        var command = new Command("ops", "List or run a unit's plugin operations.") { name, op, pairs, json, ClientCommand.Json };
        command.TreatUnmatchedTokensAsErrors = false;
        ClientCommand.SetAction(command, async (parse, client, cancellationToken) =>
        {
            var unit = parse.GetValue(name)!;
            var path = "/api/units/" + ClientCommand.Path(unit) + "/ops";
            var offered = await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(op) is not { } operation)
            {
                List(unit, offered, parse.GetValue(ClientCommand.Json));
                return ExitCodes.Ok;
            }

            var declared = offered.EnumerateArray().FirstOrDefault(o => o.GetProperty("name").GetString() == operation);
            var arguments = parse.GetValue(json) is { } text ? ParseJson(text) : FromPairs([.. parse.GetValue(pairs) ?? [], .. parse.UnmatchedTokens], declared);
            var longRunning = declared.ValueKind == JsonValueKind.Object && declared.GetProperty("longRunning").GetBoolean();
            Task<JsonElement> Run() => client.PostAsync($"{path}/{ClientCommand.Path(operation)}", arguments, cancellationToken);
            var answer = longRunning && !parse.GetValue(ClientCommand.Json)
                ? await OperationProgress.RunAsync(client, unit, operation, Run, cancellationToken).ConfigureAwait(false)
                : await Run().ConfigureAwait(false);
            if (parse.GetValue(ClientCommand.Json))
            {
                Console.WriteLine(answer.GetRawText());
                return ExitCodes.Ok;
            }

            AnsiConsole.MarkupLine($"[green]{Markup.Escape(operation)}[/]: {Markup.Escape(UnitView.Text(answer, "message"))}");
            if (answer.TryGetProperty("data", out var data) && data.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                Console.WriteLine(Readable(data));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void List(string unit, JsonElement offered, bool asJson)
    {
        if (asJson)
        {
            Console.WriteLine(offered.GetRawText());
            return;
        }

        if (offered.GetArrayLength() == 0)
        {
            AnsiConsole.MarkupLine($"{Markup.Escape(unit)} offers no operations beyond start, stop and restart.");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("Operation", "Arguments", "What it does");
        foreach (var o in offered.EnumerateArray())
        {
            var args = string.Join("\n", o.GetProperty("parameters").EnumerateArray().Select(p =>
                $"{p.GetProperty("name").GetString()}{(p.GetProperty("required").GetBoolean() ? "" : "?")}: {p.GetProperty("type").GetString()}"));
            table.AddRow(Markup.Escape(o.GetProperty("name").GetString() ?? ""), Markup.Escape(args), Markup.Escape(o.GetProperty("description").GetString() ?? ""));
        }

        AnsiConsole.Write(table);
    }

    /// <summary>An operation's data for a person: indented, and "+5.0E+00" as it is rather than escaped ("\u002B5.0E\u002B00").</summary>
    private static string Readable(JsonElement data)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            data.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static JsonElement ParseJson(string text)
    {
        try
        {
            return JsonDocument.Parse(text).RootElement;
        }
        catch (JsonException ex)
        {
            throw new ClientFailure(ExitCodes.Usage, "INVALID_ARGUMENTS", $"--args is not JSON: {ex.Message}", "Write it as one JSON object, e.g. --args '{\"model\": \"phi3\"}'.");
        }
    }

    /// <summary>key=value pairs (or <c>--key value</c>, <c>--key=value</c>), each value typed as its declared parameter says (unknown keys are left as text for the host to refuse).</summary>
    private static JsonElement FromPairs(string[] tokens, JsonElement declared)
    {
        var pairs = new List<string>();
        for (var i = 0; i < tokens.Length; i++)
        {
            if (tokens[i].StartsWith("--", StringComparison.Ordinal) && tokens[i].Length > 2)
            {
                var option = tokens[i][2..];
                if (option.Contains('=', StringComparison.Ordinal))
                {
                    pairs.Add(option);
                }
                else if (i + 1 < tokens.Length)
                {
                    pairs.Add($"{option}={tokens[++i]}");
                }
                else
                {
                    throw new ClientFailure(ExitCodes.Usage, "INVALID_ARGUMENTS", $"--{option} has no value", $"Give it one: --{option} VALUE (or {option}=VALUE).");
                }
            }
            else
            {
                pairs.Add(tokens[i]);
            }
        }

        var types = declared.ValueKind == JsonValueKind.Object
            ? declared.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("type").GetString()!, StringComparer.Ordinal)
            : [];
        var arguments = new JsonObject();
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ClientFailure(ExitCodes.Usage, "INVALID_ARGUMENTS", $"\"{pair}\" is not key=value", "Pass arguments as key=value, or all at once with --args '{json}'.");
            }

            var (key, value) = (pair[..equals], pair[(equals + 1)..]);
            arguments[key] = types.GetValueOrDefault(key) switch
            {
                "integer" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
                "number" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                "boolean" when bool.TryParse(value, out var b) => b,
                "object" or "array" => JsonNode.Parse(value),
                _ => value,
            };
        }

        return JsonSerializer.SerializeToElement(arguments);
    }
}
