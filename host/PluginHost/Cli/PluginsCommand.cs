using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Core.Hosting;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using Spectre.Console;

namespace PluginHost.Cli;

/// <summary><c>pluginhost plugins</c>: the plugins host.yaml points at, loaded for real, with their state.</summary>
internal static class PluginsCommand
{
    public static Command Create()
    {
        var command = new Command("plugins", "List the plugins found in host.yaml's plugin directories: name, version, contracts version, kinds, load state.")
        {
            CommandLine.Manifests,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(CommandLine.Manifests)!;
            var (host, problems) = HostManifestReader.ReadDirectory(dir.FullName);
            if (host is null)
            {
                ProblemPrinter.Print(Console.Out, problems);
                return ExitCodes.Problems;
            }

            var shadow = Path.Combine(Path.GetTempPath(), "pluginhost-shadow-" + Guid.NewGuid().ToString("N")[..12]);
            var catalog = new PluginCatalog(shadow, new Core.Events.EventBus(), TimeProvider.System, NullLogger<PluginCatalog>.Instance);
            await using (catalog.ConfigureAwait(false))
            {
                await catalog.LoadDirectoriesAsync(host.PluginDirectories, cancellationToken).ConfigureAwait(false);
                var plugins = catalog.List();
                Render(plugins, host.PluginDirectories);
                return plugins.Any(p => p.State == PluginLoadState.Failed) ? ExitCodes.Problems : ExitCodes.Ok;
            }
        });
        return command;
    }

    private static void Render(IReadOnlyList<PluginStatus> plugins, IReadOnlyList<string> directories)
    {
        if (plugins.Count == 0)
        {
            AnsiConsole.MarkupLine($"No plugin found in: {Markup.Escape(string.Join(", ", directories))}. Build the plugins first (dotnet build).");
            return;
        }

        var table = new Table().AddColumns("Name", "Version", "Contracts", "Kinds", "State");
        foreach (var plugin in plugins)
        {
            var state = plugin.State == PluginLoadState.Loaded
                ? "[green]loaded[/]" + (plugin.Error is null ? "" : $"\n[yellow]{Markup.Escape(plugin.Error)}[/]")
                : $"[red]failed[/]\n{Markup.Escape(plugin.Error ?? "")}\n[grey]{Markup.Escape(plugin.Remedy ?? "")}[/]";
            table.AddRow(Markup.Escape(plugin.Name), Markup.Escape(plugin.Version ?? "?"), plugin.ContractsVersion?.ToString() ?? "?",
                Markup.Escape(string.Join(", ", plugin.Kinds)), state);
        }

        AnsiConsole.Write(table);
    }
}
