using System.CommandLine;

namespace PluginHost.Cli;

/// <summary>The <c>pluginhost</c> command tree.</summary>
internal static class CommandLine
{
    public static readonly Option<DirectoryInfo> Manifests = new("--manifests", "-m")
    {
        Description = "The manifests folder (host.yaml and one YAML file per unit).",
        DefaultValueFactory = _ => new DirectoryInfo("manifests"),
    };

    /// <summary>
    /// The root help's command list with each optional argument bracketed (<c>validate [&lt;dir&gt;]</c>),
    /// as each command's own usage line has it: System.CommandLine 3 lists every argument as if it
    /// were required, and its help builder is not public, so the section is laid out again here.
    /// </summary>
    internal static string MarkOptionalArguments(string help, Command root)
    {
        var lines = help.Split('\n').ToList();
        var first = lines.FindIndex(l => l.TrimEnd() == "Commands:") + 1;
        if (first == 0)
        {
            return help;
        }

        var last = lines.FindIndex(first, l => !l.StartsWith("  ", StringComparison.Ordinal));
        last = last < 0 ? lines.Count : last;
        var rows = new List<(string Usage, string Description)>();
        for (var i = first; i < last; i++)
        {
            if (lines[i].StartsWith("   ", StringComparison.Ordinal) && rows.Count > 0)
            {
                rows[^1] = (rows[^1].Usage, rows[^1].Description + " " + lines[i].Trim()); // a wrapped description
                continue;
            }

            var cut = lines[i].IndexOf("  ", 2, StringComparison.Ordinal);
            var name = (cut < 0 ? lines[i] : lines[i][..cut]).Trim().Split(' ')[0];
            var description = cut < 0 ? "" : lines[i][cut..].Trim();
            rows.Add(root.Subcommands.FirstOrDefault(c => c.Name == name) is { } command ? (Usage(command), description) : (lines[i].Trim(), description));
        }

        var width = rows.Max(r => r.Usage.Length) + 2;
        lines.RemoveRange(first, last - first);
        lines.InsertRange(first, rows.Select(r => ("  " + r.Usage.PadRight(width) + r.Description).TrimEnd()));
        return string.Join('\n', lines);
    }

    private static string Usage(Command command) => string.Join(' ', [command.Name, .. command.Arguments.Where(a => !a.Hidden).Select(a =>
        a.Arity.MinimumNumberOfValues > 0 ? $"<{a.Name}>" : a.Arity.MaximumNumberOfValues > 1 ? $"[<{a.Name}>...]" : $"[<{a.Name}>]")]);

    public static async Task<int> InvokeAsync(string[] args)
    {
        var root = new RootCommand("PluginHost: supervises the processes apps and lab stations run beside them, each kind through a hot-reloadable plugin.")
        {
            RunCommand.Create(),
            ValidateCommand.Create(),
            PluginsCommand.Create(),
            UnitFormatCommands.Import(),
            UnitFormatCommands.Export(),
            InstallCommand.Install(),
            InstallCommand.Uninstall(),
            NewCommand.Create(),
            Client.StatusCommand.Create(),
            Client.ControlCommand.Create("start", "Start a unit of a running host and wait until it is ready."),
            Client.ControlCommand.Create("stop", "Stop a unit (stop signal, grace, SIGKILL to its whole process group) and wait until it has stopped."),
            Client.ControlCommand.Create("restart", "Restart a unit and wait until its new process is ready."),
            Client.LogsCommand.Create(),
            Client.ReloadCommand.Create(),
            Client.OpsCommand.Create(),
            Client.EventsCommand.Create(),
        };
        root.Options.Add(Client.HostAddress.UrlOption);
        root.Options.Add(Client.HostAddress.TokenOption);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"pluginhost: {error.Message}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Run 'pluginhost --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // No termination timeout: System.CommandLine would otherwise kill the process 2 s after SIGTERM,
        // cutting the host's unit stop short (grace periods are longer) and leaving units behind.
        // `run` stops through the host's console lifetime; client commands simply end.
        if (parsed.Action is System.CommandLine.Help.HelpAction && parsed.CommandResult.Command == root)
        {
            using var help = new StringWriter();
            var code = await parsed.InvokeAsync(new InvocationConfiguration { Output = help }).ConfigureAwait(false);
            await Console.Out.WriteAsync(MarkOptionalArguments(help.ToString(), root)).ConfigureAwait(false);
            return code;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
    }
}
