using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Core.Hosting;
using PluginHost.Core.Plugins;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost validate [DIR]</c>: every check the host makes at start, offline (for CI): host.yaml,
/// plugins, every unit manifest. Exit 0 when valid, 1 with the full problem list otherwise.
/// </summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo?>("dir")
        {
            Description = "The manifests folder (default: ./manifests, or --manifests).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("validate", "Check host.yaml, the plugins and every unit manifest; print every problem with file:line:column.")
        {
            directory,
            CommandLine.Manifests,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(directory) ?? parse.GetValue(CommandLine.Manifests)!;
            var (setup, problems) = await HostSetup.LoadAsync(new HostOverrides(dir.FullName), TimeProvider.System,
                NullLoggerFactory.Instance, temporary: true, cancellationToken).ConfigureAwait(false);
            if (setup is null)
            {
                ProblemPrinter.Print(Console.Out, problems);
                return ExitCodes.Problems;
            }

            await using (setup.ConfigureAwait(false))
            {
                foreach (var failed in setup.Plugins.List().Where(p => p.State == PluginLoadState.Failed))
                {
                    await Console.Out.WriteLineAsync($"warning: plugin {failed.Name} ({failed.SourceDirectory}) did not load: {failed.Error} {failed.Remedy}").ConfigureAwait(false);
                }

                var units = setup.Units.Units.Count;
                await Console.Out.WriteLineAsync($"{dir.FullName}: valid ({units} unit{(units == 1 ? "" : "s")}, {setup.Plugins.List().Count(p => p.State == PluginLoadState.Loaded)} plugin(s) loaded).").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
        });
        return command;
    }
}
