using System.CommandLine;
using System.Text.Json;
using PluginHost.Contracts.Specs;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary>
/// <c>pluginhost start|stop|restart NAME</c>: asks the host, then (unless <c>--no-wait</c>) shows the
/// unit's state live until it is where it was asked to be. Exit 0 when it got there, 1 when it failed
/// or did not get there in time.
/// </summary>
internal static class ControlCommand
{
    private static readonly Option<bool> NoWait = new("--no-wait") { Description = "Return once the host accepted the request." };

    private static readonly Option<string> Timeout = new("--timeout")
    {
        Description = "How long to wait for the unit to get there (e.g. 60s, 2m).",
        DefaultValueFactory = _ => "60s",
    };

    public static Command Create(string verb, string description)
    {
        var name = new Argument<string>("name") { Description = "The unit." };
        var command = new Command(verb, description) { name, NoWait, Timeout, ClientCommand.Json };
        ClientCommand.SetAction(command, async (parse, client, cancellationToken) =>
        {
            var unit = parse.GetValue(name)!;
            var timeoutText = parse.GetValue(Timeout)!;
            if (!Duration.TryParse(timeoutText, out var timeout))
            {
                throw new ClientFailure(ExitCodes.Usage, "INVALID_TIMEOUT", $"--timeout \"{timeoutText}\" is not a duration", "Write it like 30s, 2m or 1h.");
            }

            var path = "/api/units/" + ClientCommand.Path(unit);
            var before = await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
            var answer = await client.PostAsync($"{path}/{verb}", null, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(ClientCommand.Json))
            {
                Console.WriteLine(answer.GetRawText());
            }
            else
            {
                AnsiConsole.MarkupLine(Markup.Escape(UnitView.Text(answer, "message")));
            }

            if (parse.GetValue(NoWait))
            {
                return ExitCodes.Ok;
            }

            var oldPid = UnitView.Text(before, "pid");
            var reached = await WaitAsync(client, path, verb, oldPid, timeout, cancellationToken).ConfigureAwait(false);
            return Report(unit, verb, reached, timeout);
        });
        return command;
    }

    /// <returns>The unit's last status, when it reached the goal, failed, or time ran out.</returns>
    private static async Task<(JsonElement Status, bool Reached)> WaitAsync(ApiClient client, string path, string verb, string oldPid, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        (JsonElement, bool) result = default;
        await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync($"{verb}…", async context =>
        {
            while (true)
            {
                var status = await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
                var state = UnitView.Text(status, "state");
                context.Status($"{Markup.Escape(UnitView.Text(status, "name"))}: {UnitView.State(state)} [grey]{Markup.Escape(UnitView.Text(status, "reason"))}[/]");
                var reached = verb switch
                {
                    "stop" => state is "stopped" or "idle" or "failed",
                    "restart" => state == "ready" && UnitView.Text(status, "pid") != oldPid,
                    _ => state == "ready",
                };
                if (reached || state == "failed" || DateTimeOffset.UtcNow >= deadline)
                {
                    result = (status, reached && !(verb != "stop" && state == "failed"));
                    return;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        return result;
    }

    private static int Report(string unit, string verb, (JsonElement Status, bool Reached) outcome, TimeSpan timeout)
    {
        var state = UnitView.Text(outcome.Status, "state");
        if (outcome.Reached)
        {
            var pid = UnitView.Text(outcome.Status, "pid");
            AnsiConsole.MarkupLine($"{Markup.Escape(unit)}: {UnitView.State(state)}" + (pid == "–" ? "" : $" (pid {pid})"));
            return ExitCodes.Ok;
        }

        AnsiConsole.MarkupLine(state == "failed"
            ? $"{Markup.Escape(unit)}: {UnitView.State(state)}"
            : $"{Markup.Escape(unit)}: still {UnitView.State(state)} after {Duration.Format(timeout)} ([grey]{verb} not confirmed[/])");
        if (UnitView.Error(outcome.Status, withRemedy: true) is { Length: > 0 } error)
        {
            AnsiConsole.MarkupLine(error);
        }

        return ExitCodes.Problems;
    }
}
