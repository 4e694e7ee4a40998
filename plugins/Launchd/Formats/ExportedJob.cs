using System.Text.RegularExpressions;
using PluginHost.Contracts.Formats;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Process;

namespace PluginHost.Plugins.Launchd.Formats;

/// <summary>
/// A unit as another supervisor would run it — the one shape both the plist and the systemd writer
/// start from: a launchd-service unit from its own keys, any other kind from its launch plan and
/// its restart and stop settings. What cannot be carried over is a note.
/// </summary>
internal sealed partial record ExportedJob(
    string Label,
    string Program,
    IReadOnlyList<string> Arguments,
    string? WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment,
    string? UserName,
    string? GroupName,
    bool RunAtLoad,
    KeepAliveRule KeepAlive,
    int ThrottleInterval,
    int ExitTimeOut,
    string? StandardOutPath,
    string? StandardErrorPath,
    bool Disabled,
    IReadOnlyList<string> After,
    RestartSettings Restart)
{
    public static (ExportedJob Job, List<FormatNote> Notes) From(ExportedUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var notes = new List<FormatNote>();
        var folder = Path.GetDirectoryName(Path.GetFullPath(unit.ManifestPath)) ?? ".";
        if (unit.HasHealthChecks)
        {
            notes.Add(new("health", "readiness and liveness probes are not exported: the other supervisor only sees the process run and exit"));
        }

        if (unit.Kind == LaunchdDriver.Kind)
        {
            var (spec, problems) = LaunchdSpec.Read(unit.Spec);
            if (problems.Count > 0)
            {
                throw new UnitFormatException($"{unit.ManifestPath}: the spec is invalid: {string.Join("; ", problems)}", "Fix the manifest (`pluginhost validate`), then export again.");
            }

            var program = spec.Command.Contains('/', StringComparison.Ordinal) ? Absolute(folder, spec.Command) : spec.Command;
            return (new ExportedJob(spec.Label ?? unit.Name, program, [.. spec.Arguments.Select(a => Placeholders(a, unit))],
                spec.WorkingDirectory is null ? null : Absolute(folder, spec.WorkingDirectory), spec.EnvironmentVariables, spec.UserName, spec.GroupName,
                unit.Autostart, spec.KeepAlive, spec.ThrottleInterval, spec.ExitTimeOut,
                spec.StandardOutPath is null ? null : Absolute(folder, spec.StandardOutPath), spec.StandardErrorPath is null ? null : Absolute(folder, spec.StandardErrorPath),
                !unit.Enabled, unit.After, unit.Restart), notes);
        }

        var plan = unit.Plan ?? throw new UnitFormatException(
            $"{unit.Name}: its launch cannot be planned here ({unit.PlanError?.Code}: {unit.PlanError?.Message})",
            unit.PlanError?.Remedy ?? "Fix what the unit needs, then export again.");
        var restart = unit.Restart;
        var keepAlive = restart.Policy switch
        {
            RestartPolicy.Always => new KeepAliveRule(true),
            RestartPolicy.OnFailure => new KeepAliveRule(null, SuccessfulExit: false),
            _ => KeepAliveRule.Off,
        };
        if (restart.Policy != RestartPolicy.Never && restart.InitialBackoff < restart.MaxBackoff && restart.Multiplier > 1)
        {
            notes.Add(new("restart.backoff", $"exponential backoff ({Seconds(restart.InitialBackoff)} s doubling to {Seconds(restart.MaxBackoff)} s) becomes a fixed interval of {Throttle(restart)} s"));
        }

        if (plan.Environment.Count > 0)
        {
            notes.Add(new("env", $"{plan.Environment.Count} environment value(s) are written in clear (secrets included): keep the file private"));
        }

        if (plan.Io == LaunchIo.Pty)
        {
            notes.Add(new("io", "the unit runs on a pseudo-terminal here; the other supervisor gives it none"));
        }

        return (new ExportedJob(unit.Name, plan.Command, plan.Arguments, plan.WorkingDirectory, plan.Environment, null, null, unit.Autostart, keepAlive,
            Throttle(restart), Math.Max(1, (int)Math.Ceiling(unit.Stop.Grace.TotalSeconds)),
            plan.StandardOutPath ?? unit.LogPath, plan.StandardErrorPath ?? unit.LogPath, !unit.Enabled, unit.After, restart), notes);
    }

    /// <summary>The interval between two starts that the host's settings amount to, in whole seconds.</summary>
    private static int Throttle(RestartSettings restart) =>
        (int)Math.Ceiling(Math.Max(restart.MinInterval.TotalSeconds, restart.InitialBackoff.TotalSeconds));

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    private static string Absolute(string folder, string path) => Path.GetFullPath(Path.Combine(folder, CommandLocator.ExpandHome(path)));

    /// <summary>The host's placeholders, as the host would fill them for this unit's preferred ports.</summary>
    private static string Placeholders(string text, ExportedUnit unit) => PortPlaceholder().Replace(text.Replace("{unit}", unit.Name, StringComparison.Ordinal),
        m => unit.Ports.TryGetValue(m.Groups[1].Value, out var port) ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : m.Value);

    [GeneratedRegex(@"\{port:([A-Za-z0-9_-]+)\}")]
    private static partial Regex PortPlaceholder();
}
