using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using PluginHost.Api;
using PluginHost.Contracts.Units;
using PluginHost.Core.Hosting;
using PluginHost.Core.Manifests;
using PluginHost.Core.Logs;
using PluginHost.Core.Plugins;
using PluginHost.Core.Storage;
using PluginHost.Core.Supervision;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost run</c>: the host in the foreground. Loads host.yaml, the plugins and the units
/// (refusing to start on any problem), serves the HTTP API, and watches plugin folders (hot reload)
/// and the manifests folder (validated diffs) until Ctrl-C.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "The data folder (overrides host.yaml dataDir)." };
        var urls = new Option<Uri?>("--urls")
        {
            Description = "Where the API listens, e.g. http://127.0.0.1:7171 (overrides host.yaml api).",
            CustomParser = HttpUrl.ParseListenAddress,
        };
        var command = new Command("run", "Run the host in the foreground with the manifests folder and the built plugins.")
        {
            CommandLine.Manifests,
            data,
            urls,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new HostOverrides(parse.GetValue(CommandLine.Manifests)!.FullName, parse.GetValue(data)?.FullName, parse.GetValue(urls)),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(HostOverrides options, CancellationToken cancellationToken)
    {
        try
        {
            return await RunHostAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (DataFolderInUseException ex)
        {
            await Console.Error.WriteLineAsync($"pluginhost: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.StartupFailed;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The data folder or the journal cannot be used: say so plainly, never with a stack trace.
            await Console.Error.WriteLineAsync($"pluginhost: cannot use the data folder: {ex.Message.TrimEnd('.')}. Check that the data folder (host.yaml dataDir or --data) exists or can be created, is writable, and that no other host uses it.").ConfigureAwait(false);
            return ExitCodes.StartupFailed;
        }
    }

    private static async Task<int> RunHostAsync(HostOverrides options, CancellationToken cancellationToken)
    {
        using var serilog = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // Written by a thread of its own: a line to the console (a pipe, a file, a journald stream)
            // cost 20–70 µs, and a crash → restart logs three transitions before the new process
            // starts. Blocking when 10,000 lines wait, never dropping; flushed at exit and on a crash.
            .WriteTo.Async(sink => sink.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}"), bufferSize: 10_000, blockWhenFull: true)
            .CreateLogger();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => serilog.Dispose();
        using var loggers = new SerilogLoggerFactory(serilog);
        var log = loggers.CreateLogger("PluginHost");
        if (Core.Processes.InheritedDescriptors.MarkCloseOnExec() is > 0 and var inherited)
        {
            log.LogInformation("{Count} descriptor(s) inherited from the host's parent are kept from every unit (close-on-exec)", inherited);
        }

        // Taken first, so that no unit inherits systemd's notify socket.
        using var systemd = SystemdNotify.FromEnvironment(TimeProvider.System, log);
        var (setup, problems) = await HostSetup.LoadAsync(options, TimeProvider.System, loggers, temporary: false, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            await Console.Error.WriteLineAsync("pluginhost: the configuration is invalid; nothing was started.").ConfigureAwait(false);
            ProblemPrinter.Print(Console.Error, problems);
            return ExitCodes.StartupFailed;
        }

        await using (setup.ConfigureAwait(false))
        {
            var (token, tokenError) = ApiToken.Resolve(setup.Host);
            if (tokenError is not null)
            {
                await Console.Error.WriteLineAsync($"pluginhost: {tokenError}").ConfigureAwait(false);
                return ExitCodes.StartupFailed;
            }

            var loopback = IsLoopback(setup.Host.ApiBind);
            if (!loopback && token is null)
            {
                await Console.Error.WriteLineAsync($"pluginhost: refusing to listen on {setup.Host.ApiBind}: anyone who can reach that address could start and stop your units. Binding beyond the loopback needs a bearer token: set {ApiToken.EnvironmentVariable}, or name a file holding one in host.yaml (api: {{ tokenFile: secrets/api-token }}); generate one with `openssl rand -hex 32`. Or bind to 127.0.0.1 (host.yaml api.bind or --urls).").ConfigureAwait(false);
                return ExitCodes.StartupFailed;
            }

            var url = setup.Host.ApiAddress;
            using var stop = new StopSignals(cancellationToken);
            var ignored = StopSignals.InheritedIgnored();
            if (ignored.Count > 0)
            {
                log.LogWarning("Ignored since the host started (inherited from its parent, as for a script's background job): {Signals}. They will not stop this host; stop it with SIGTERM", string.Join(", ", ignored));
            }

            await using var engine = Engine.Create(new EngineOptions(setup.Host.DataDirectory, setup.Events, setup.Alarm, setup.Plugins, TimeProvider.System, loggers)
            {
                Alerts = setup.Host.Alerts,
            });
            var supervisor = engine.Supervisor;
            using var manifests = new ManifestWatcher(setup.ManifestsDirectory, setup.Units, setup.Plugins, setup.Events, TimeProvider.System,
                setup.Host.WatchManifests ? setup.Host.ManifestDebounce : null,
                supervisor.ApplyAsync,
                loggers.CreateLogger<ManifestWatcher>());
            await using var api = new ApiServer(setup.Host.ApiBind, setup.Host.ApiPort, HostApi.MaxRequestBodyBytes, loggers);
            var handler = HostApi.Create(setup, supervisor, engine.Alerts, new ApiGuard(token, loopback), api.Stopping, loggers);
            using var watcher = setup.Host.WatchPlugins
                ? new PluginWatcher(setup.Plugins, setup.Host.PluginDirectories, setup.Host.PluginReloadDebounce, TimeProvider.System, loggers.CreateLogger<PluginWatcher>())
                : null;

            try
            {
                await api.StartAsync(handler, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"pluginhost: cannot listen on {url}: {ex.Message}. Stop whatever uses that port, or choose another with --urls http://127.0.0.1:PORT.").ConfigureAwait(false);
                return ExitCodes.StartupFailed;
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                // An address this machine cannot listen on (not one of its own, a family it lacks).
                await Console.Error.WriteLineAsync($"pluginhost: cannot listen on {url}: {ex.Message} ({ex.SocketErrorCode}). Give an address of this machine, e.g. --urls http://127.0.0.1:7171 or http://[::1]:7171.").ConfigureAwait(false);
                return ExitCodes.StartupFailed;
            }

            LogStarted(log, url, setup, token is not null, ignored.Contains("SIGINT"));
            try
            {
                await supervisor.StartAsync(setup.Units, CancellationToken.None).ConfigureAwait(false);
            }
            catch (UnitErrorException ex)
            {
                // A unit's data folder or log cannot be made: nothing was started.
                await Console.Error.WriteLineAsync($"pluginhost: [{ex.Error.Code}] {ex.Error.Message}\n  {ex.Error.Remedy}").ConfigureAwait(false);
                return ExitCodes.StartupFailed;
            }

            systemd?.Ready($"{setup.Units.Units.Count} unit(s) loaded; API on {url}");

            // SIGTERM / SIGINT (Ctrl-C) / SIGQUIT → stop the units first, each with its full grace, while
            // the API still answers (event streams show the stop), then the web server.
            await stop.Requested.ConfigureAwait(false);
            systemd?.Stopping("stopping units");
            log.LogInformation("Stopping units…");
            var failures = await supervisor.StopAllAsync().ConfigureAwait(false);
            await api.StopAsync().ConfigureAwait(false);
            if (failures.Count > 0)
            {
                log.LogError("Host stopped; {Count} unit(s) did not stop cleanly (each is listed above) and were killed.", failures.Count);
            }
            else
            {
                log.LogInformation("Host stopped.");
            }
            return ExitCodes.Ok;
        }
    }

    private static void LogStarted(Microsoft.Extensions.Logging.ILogger log, string url, HostSetup setup, bool tokenRequired, bool interruptIgnored)
    {
        foreach (var plugin in setup.Plugins.List())
        {
            log.LogInformation("Plugin {Plugin} {Version}: {State} {Kinds}{Error}", plugin.Name, plugin.Version, plugin.State, string.Join(", ", plugin.Kinds),
                plugin.Error is null ? "" : $" — {plugin.Error} {plugin.Remedy}");
        }

        foreach (var name in setup.Units.StartOrder)
        {
            var unit = setup.Units.Units[name];
            log.LogInformation("Unit {Unit} ({Kind}) from {File}: {Enabled}", unit.Name, unit.Kind, unit.File,
                unit.Enabled ? (unit.Autostart ? "enabled, autostart" : "enabled, starts on demand") : "disabled");
        }

        log.LogInformation("PluginHost listening on {Url}{Token} (data: {Data}). Dashboard: {Url}/ — {HowToStop}.", url,
            tokenRequired ? ", bearer token required" : "", setup.Host.DataDirectory, url, interruptIgnored ? $"stop it with kill -TERM {Environment.ProcessId}" : "press Ctrl-C to stop");
    }

    private static bool IsLoopback(string bind) =>
        bind == "localhost" || (IPAddress.TryParse(bind, out var address) && IPAddress.IsLoopback(address));
}
