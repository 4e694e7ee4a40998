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

    public static async Task<int> InvokeAsync(string[] args)
    {
        var root = new RootCommand("PluginHost: supervises the processes apps and lab stations run beside them, each kind through a hot-reloadable plugin.")
        {
            RunCommand.Create(),
            ValidateCommand.Create(),
            PluginsCommand.Create(),
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
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
    }
}
