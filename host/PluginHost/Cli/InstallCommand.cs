using System.CommandLine;
using Helper = CliWrap.Cli;
using CommandResultValidation = CliWrap.CommandResultValidation;
using CliWrap.Buffered;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Core.Hosting;
using PluginHost.Install;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost install --systemd | --launchd</c> and <c>uninstall</c>: the host itself started at
/// boot (or login, with <c>--user</c>) by the OS supervisor, with KeepAlive semantics. The manifests
/// are validated first: a configuration the host would refuse is never installed. <c>--dry-run</c>
/// prints what would be written and run; <c>--unit-dir</c> writes elsewhere and runs nothing (the
/// OS supervisor would not look there), printing the commands instead.
/// </summary>
internal static class InstallCommand
{
    private static readonly Option<bool> Systemd = new("--systemd") { Description = "A systemd service (Linux)." };
    private static readonly Option<bool> Launchd = new("--launchd") { Description = "A launchd LaunchDaemon, or a LaunchAgent with --user (macOS)." };
    private static readonly Option<bool> User = new("--user") { Description = "For the current user (systemd --user, a LaunchAgent) instead of the whole system." };
    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "Print what would be written and run; change nothing." };
    private static readonly Option<DirectoryInfo?> UnitDir = new("--unit-dir") { Description = "Write the unit here instead of the OS supervisor's folder, and run nothing." };
    private static readonly Option<string> Name = new("--name")
    {
        Description = "The service's name (pluginhost.service / com.pluginhost.host), for several hosts on one machine.",
        DefaultValueFactory = _ => "pluginhost",
    };

    public static Command Install()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "The data folder (default: host.yaml's dataDir)." };
        var watchdog = new Option<string?>("--watchdog") { Description = "systemd's WatchdogSec (e.g. 30s): the host pings it while it runs; a hung host is restarted." };
        var command = new Command("install", "Start this host at boot (or login, with --user) under systemd or launchd, kept alive.")
        {
            Systemd, Launchd, User, DryRun, UnitDir, Name, CommandLine.Manifests, data, watchdog,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Which(parse) is not { } system)
            {
                return ExitCodes.Usage;
            }

            TimeSpan? watchdogInterval = null;
            if (parse.GetValue(watchdog) is { } text)
            {
                if (!PluginHost.Contracts.Specs.Duration.TryParse(text, out var interval) || interval < TimeSpan.FromSeconds(1))
                {
                    await Console.Error.WriteLineAsync($"pluginhost: --watchdog {text} is not a duration of at least 1s (e.g. 30s).").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                watchdogInterval = interval;
            }

            var manifests = parse.GetValue(CommandLine.Manifests)!.FullName;
            var (setup, problems) = await HostSetup.LoadAsync(new HostOverrides(manifests, parse.GetValue(data)?.FullName), TimeProvider.System,
                NullLoggerFactory.Instance, temporary: true, cancellationToken).ConfigureAwait(false);
            if (setup is null)
            {
                await Console.Error.WriteLineAsync("pluginhost: the configuration is invalid; nothing was installed.").ConfigureAwait(false);
                ProblemPrinter.Print(Console.Error, problems);
                return ExitCodes.Problems;
            }

            HostLaunch launch;
            await using (setup.ConfigureAwait(false))
            {
                var longest = setup.Units.Units.Values.Select(u => u.Stop.Grace).DefaultIfEmpty(TimeSpan.Zero).Max();
                launch = HostLaunch.For(setup.ManifestsDirectory, setup.Host.DataDirectory, longest, watchdogInterval);
            }

            var plan = Plan(system, parse.GetValue(User), parse.GetValue(Name)!, parse.GetValue(UnitDir)?.FullName);
            var file = system == "systemd" ? SystemdHostUnit.Text(launch, plan.User) : LaunchdHostAgent.Text(launch, plan.Label);
            return await ApplyAsync(plan, file, plan.Enable, parse.GetValue(DryRun), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Uninstall()
    {
        var command = new Command("uninstall", "Stop starting this host at boot: disable and remove what `install` wrote.")
        {
            Systemd, Launchd, User, DryRun, UnitDir, Name,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Which(parse) is not { } system)
            {
                return ExitCodes.Usage;
            }

            var plan = Plan(system, parse.GetValue(User), parse.GetValue(Name)!, parse.GetValue(UnitDir)?.FullName);
            return await ApplyAsync(plan, text: null, plan.Disable, parse.GetValue(DryRun), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static string? Which(ParseResult parse)
    {
        var systemd = parse.GetValue(Systemd);
        var launchd = parse.GetValue(Launchd);
        if (systemd == launchd)
        {
            Console.Error.WriteLine("pluginhost: say which supervisor: --systemd (Linux) or --launchd (macOS).");
            return null;
        }

        return systemd ? "systemd" : "launchd";
    }

    /// <summary>Where the file goes and the commands that take it up or let it go.</summary>
    private sealed record InstallPlan(string File, string Label, bool User, bool CustomFolder, IReadOnlyList<string[]> Enable, IReadOnlyList<string[]> Disable);

    private static InstallPlan Plan(string system, bool user, string name, string? unitDir)
    {
        var scope = user ? new[] { "--user" } : [];
        if (system == "systemd")
        {
            var unit = name + ".service";
            var file = Path.Combine(unitDir ?? SystemdHostUnit.Folder(user), unit);
            return new InstallPlan(file, unit, user, unitDir is not null,
                [["systemctl", .. scope, "daemon-reload"], ["systemctl", .. scope, "enable", "--now", unit]],
                [["systemctl", .. scope, "disable", "--now", unit], ["systemctl", .. scope, "daemon-reload"]]);
        }

        var label = name == "pluginhost" ? LaunchdHostAgent.Label : name;
        var plist = Path.Combine(unitDir ?? LaunchdHostAgent.Folder(user), label + ".plist");
        var domain = user ? $"gui/{Environment.GetEnvironmentVariable("UID") ?? Core.Processes.LibC.getuid().ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "system";
        return new InstallPlan(plist, label, user, unitDir is not null,
            [["launchctl", "bootstrap", domain, plist]],
            [["launchctl", "bootout", $"{domain}/{label}"]]);
    }

    /// <param name="text">The file to write (install), or null to remove it (uninstall).</param>
    private static async Task<int> ApplyAsync(InstallPlan plan, string? text, IReadOnlyList<string[]> commands, bool dryRun, CancellationToken cancellationToken)
    {
        var run = plan.CustomFolder ? [] : commands;
        if (dryRun)
        {
            Console.WriteLine(text is null ? $"would run, then remove {plan.File}:" : $"would write {plan.File}:\n{text}");
            foreach (var command in commands)
            {
                Console.WriteLine((plan.CustomFolder ? "to run by hand: " : "would run: ") + string.Join(' ', command));
            }

            return ExitCodes.Ok;
        }

        if (text is null)
        {
            if (!File.Exists(plan.File))
            {
                await Console.Error.WriteLineAsync($"pluginhost: {plan.File} does not exist: nothing is installed there (installed with another --name, --user or --unit-dir?).").ConfigureAwait(false);
                return ExitCodes.Problems;
            }

            var stopped = await RunAllAsync(run, cancellationToken).ConfigureAwait(false);
            File.Delete(plan.File);
            Console.WriteLine($"removed {plan.File}");
            return stopped ? ExitCodes.Ok : ExitCodes.Problems;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(plan.File)!);
            await File.WriteAllTextAsync(plan.File + ".installing", text, cancellationToken).ConfigureAwait(false);
            File.Move(plan.File + ".installing", plan.File, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"pluginhost: cannot write {plan.File}: {ex.Message} {(plan.User ? "" : "Installing for the whole system needs root (sudo), or pass --user.")}").ConfigureAwait(false);
            return ExitCodes.Problems;
        }

        Console.WriteLine($"wrote {plan.File}");
        if (plan.CustomFolder)
        {
            foreach (var command in commands)
            {
                Console.WriteLine("to run by hand once the file is where the supervisor looks: " + string.Join(' ', command));
            }

            return ExitCodes.Ok;
        }

        return await RunAllAsync(run, cancellationToken).ConfigureAwait(false) ? ExitCodes.Ok : ExitCodes.Problems;
    }

    /// <summary>Runs each helper command in turn (CliWrap: one-shot commands, not supervised units); stops at the first that fails, saying what to do.</summary>
    private static async Task<bool> RunAllAsync(IReadOnlyList<string[]> commands, CancellationToken cancellationToken)
    {
        foreach (var command in commands)
        {
            var line = string.Join(' ', command);
            try
            {
                var result = await Helper.Wrap(command[0]).WithArguments(command[1..]).WithValidation(CommandResultValidation.None)
                    .ExecuteBufferedAsync(cancellationToken).ConfigureAwait(false);
                if (result.ExitCode != 0)
                {
                    await Console.Error.WriteLineAsync($"pluginhost: `{line}` exited {result.ExitCode}: {(result.StandardError + result.StandardOutput).Trim()}\n  Run it again once the supervisor is up (is this machine booted with {command[0].Replace("ctl", "", StringComparison.Ordinal)}?).").ConfigureAwait(false);
                    return false;
                }

                Console.WriteLine($"ran: {line}");
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                await Console.Error.WriteLineAsync($"pluginhost: cannot run {command[0]}: {ex.Message}. Is this the right supervisor for this machine (--systemd on Linux, --launchd on macOS)?").ConfigureAwait(false);
                return false;
            }
        }

        return true;
    }
}
