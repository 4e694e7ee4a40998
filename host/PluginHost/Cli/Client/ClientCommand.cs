using System.CommandLine;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary>What every client command shares: find the host, run, and turn failures into a message and an exit code.</summary>
internal static class ClientCommand
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print the host's JSON answer instead of a table." };

    public static void SetAction(Command command, Func<ParseResult, ApiClient, CancellationToken, Task<int>> action)
    {
        command.Options.Add(CommandLine.Manifests);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Console.IsOutputRedirected)
            {
                // Piped into a file or grep: whole lines, not tables squeezed into 80 columns.
                AnsiConsole.Profile.Width = 250;
                Plain(AnsiConsole.Console);
            }

            using var client = new ApiClient(HostAddress.Resolve(parse));
            try
            {
                return await action(parse, client, cancellationToken).ConfigureAwait(false);
            }
            catch (ClientFailure failure)
            {
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                if (Console.IsErrorRedirected)
                {
                    console.Profile.Width = 10_000; // one line per message when piped
                    Plain(console);
                }

                console.MarkupLine($"[red]{Markup.Escape(failure.Code)}[/]: {Markup.Escape(failure.Message)}");
                if (failure.Remedy.Length > 0)
                {
                    console.MarkupLine($"[grey]→ {Markup.Escape(failure.Remedy)}[/]");
                }

                return failure.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Ok; // Ctrl-C while following
            }
        });
    }

    public static string Path(string name) => Uri.EscapeDataString(name);

    /// <summary>No colour or other escape codes: output that goes to a file or a pipe is read as text.</summary>
    private static void Plain(IAnsiConsole console)
    {
        console.Profile.Capabilities.Ansi = false;
        console.Profile.Capabilities.ColorSystem = ColorSystem.NoColors;
    }
}
