using System.CommandLine;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary><c>pluginhost reload [PLUGIN]</c>: hot-reloads one plugin (or every plugin) of a running host; units keep running.</summary>
internal static class ReloadCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("plugin") { Description = "The plugin; every loaded plugin when omitted.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("reload", "Hot-reload a plugin from its folder: units are handed to the new version without a restart.") { name, ClientCommand.Json };
        ClientCommand.SetAction(command, async (parse, client, cancellationToken) =>
        {
            var plugins = parse.GetValue(name) is { } one
                ? [one]
                : (await client.GetAsync("/api/plugins", cancellationToken).ConfigureAwait(false)).EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToArray();
            var failed = 0;
            foreach (var plugin in plugins)
            {
                try
                {
                    var answer = await AnsiConsole.Status().StartAsync($"reloading {Markup.Escape(plugin)}…",
                        _ => client.PostAsync($"/api/plugins/{ClientCommand.Path(plugin)}/reload", null, cancellationToken)).ConfigureAwait(false);
                    if (parse.GetValue(ClientCommand.Json))
                    {
                        Console.WriteLine(answer.GetRawText());
                    }
                    else
                    {
                        AnsiConsole.MarkupLine($"[green]reloaded[/] {Markup.Escape(UnitView.Text(answer, "message"))}");
                    }
                }
                catch (ClientFailure failure) when (plugins.Length > 1 && failure.ExitCode == ExitCodes.Problems)
                {
                    failed++;
                    AnsiConsole.MarkupLine($"[red]{Markup.Escape(plugin)}: {Markup.Escape(failure.Message)}[/]");
                }
            }

            return failed == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return command;
    }
}
