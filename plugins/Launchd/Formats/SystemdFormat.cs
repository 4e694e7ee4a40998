using System.Globalization;
using System.Text;
using PluginHost.Contracts.Formats;

namespace PluginHost.Plugins.Launchd.Formats;

/// <summary>
/// A systemd service unit for any unit (systemd.service(5), systemd.exec(5), systemd.kill(5)):
/// for operators who want the OS supervisor instead. Quoting follows systemd's own rules, so an
/// argument or a value with spaces, quotes, <c>%</c> or <c>$</c> reaches the program as written.
/// </summary>
internal sealed class SystemdFormat : IUnitFormat
{
    public string Name => "systemd";

    public string Description => "systemd service units (export only)";

    public string ExportFileName(ExportedUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return unit.Name + ".service";
    }

    public UnitExport Export(ExportedUnit unit)
    {
        var (job, notes) = ExportedJob.From(unit);
        var (restart, restartNote) = Restart(job.KeepAlive);
        if (restartNote is not null)
        {
            notes.Add(new("KeepAlive", restartNote));
        }

        var text = new StringBuilder();
        text.Append("# Exported from ").Append(Comment(unit.ManifestPath)).Append(" by `pluginhost export systemd` (docs/launchd.md).\n");
        text.Append("[Unit]\n");
        text.Append("Description=").Append(Value($"{unit.Name} ({unit.Kind}, exported from PluginHost)")).Append('\n');
        if (job.After.Count > 0)
        {
            var after = string.Join(' ', job.After.Select(a => a + ".service"));
            text.Append("After=").Append(after).Append('\n');
            text.Append("Wants=").Append(after).Append('\n');
        }

        foreach (var (path, exists) in job.KeepAlive.Paths)
        {
            // PathState as far as systemd goes: the path is checked at each start, not watched.
            text.Append("ConditionPathExists=").Append(exists ? "" : "!").Append(Path(path)).Append('\n');
        }

        if (job.Restart.MaxRestarts == int.MaxValue || restart == "no")
        {
            text.Append("StartLimitIntervalSec=0\n"); // launchd's way: never give up
        }
        else
        {
            text.Append("StartLimitIntervalSec=").Append(Seconds(job.Restart.Window)).Append('\n');
            text.Append("StartLimitBurst=").Append((job.Restart.MaxRestarts + 1L).ToString(CultureInfo.InvariantCulture)).Append('\n'); // starts, not restarts
        }

        text.Append("\n[Service]\n");
        text.Append("Type=exec\n");
        text.Append("ExecStart=").Append(string.Join(' ', new[] { job.Program }.Concat(job.Arguments).Select(Argument))).Append('\n');
        if (job.WorkingDirectory is not null)
        {
            text.Append("WorkingDirectory=").Append(Path(job.WorkingDirectory)).Append('\n');
        }

        foreach (var (name, value) in job.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append("Environment=").Append(Argument($"{name}={value}")).Append('\n');
        }

        if (job.UserName is not null)
        {
            text.Append("User=").Append(Value(job.UserName)).Append('\n');
        }

        if (job.GroupName is not null)
        {
            text.Append("Group=").Append(Value(job.GroupName)).Append('\n');
        }

        text.Append("Restart=").Append(restart).Append('\n');
        text.Append("RestartSec=").Append(job.ThrottleInterval.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("KillMode=control-group\n"); // the whole group, as the host stops it
        text.Append("KillSignal=SIGTERM\n");
        text.Append("TimeoutStopSec=").Append(job.ExitTimeOut.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (job.StandardOutPath is not null)
        {
            text.Append("StandardOutput=append:").Append(Path(job.StandardOutPath)).Append('\n');
        }

        if (job.StandardErrorPath is not null)
        {
            text.Append("StandardError=append:").Append(Path(job.StandardErrorPath)).Append('\n');
        }

        text.Append("\n[Install]\n");
        text.Append("WantedBy=multi-user.target\n");
        if (!job.RunAtLoad)
        {
            notes.Add(new("autostart", "the unit does not start with the host: enable it with `systemctl enable` only if it should start at boot"));
        }

        if (job.Disabled)
        {
            notes.Add(new("enabled", "the unit is disabled in its manifest: leave the exported unit disabled too"));
        }

        return new UnitExport(text.ToString(), notes);
    }

    /// <summary>
    /// launchd's KeepAlive as systemd's Restart=: which ends of a process start it again. The dictionary
    /// form ORs its conditions; systemd has one setting, so the closest one that restarts at least
    /// as often is chosen, and a note says where they differ.
    /// </summary>
    internal static (string Restart, string? Note) Restart(KeepAliveRule rule)
    {
        if (rule.Always is { } always)
        {
            return (always ? "always" : "no", null);
        }

        // Which ends restart: a clean exit, an exit with a non-zero status, a crash signal, another signal.
        bool clean = false, failedStatus = false, crash = false, otherSignal = false;
        if (rule.SuccessfulExit == true)
        {
            clean = true;
        }
        else if (rule.SuccessfulExit == false)
        {
            failedStatus = crash = otherSignal = true;
        }

        if (rule.Crashed == true)
        {
            crash = true;
        }
        else if (rule.Crashed == false)
        {
            clean = failedStatus = otherSignal = true;
        }

        var conditional = rule.Paths.Count > 0 || rule.Jobs.Count > 0;
        var note = conditional
            ? "PathState becomes ConditionPathExists= (checked when the unit starts, not watched: a .path unit would start it when the path appears); OtherJobEnabled has no systemd equivalent and is not carried over"
            : null;
        // A condition on a path or another unit keeps it alive whatever the exit, while the condition holds.
        var restart = conditional ? "always" : (clean, failedStatus, crash, otherSignal) switch
        {
            (false, false, false, false) => "no",
            (true, true, true, true) => "always",
            (true, false, false, false) => "on-success",
            (false, true, true, true) => "on-failure",
            (false, false, true, _) => "on-abnormal",
            _ => "always",
        };
        if (restart == "always" && !conditional && !(clean && failedStatus && crash && otherSignal))
        {
            note = Join(note, "no Restart= value matches these KeepAlive conditions exactly: always is the closest that never restarts less");
        }
        else if (restart == "on-abnormal")
        {
            note = Join(note, "on-abnormal also restarts after any signal, a timeout or the watchdog, not only a crash");
        }

        return (restart, note);
    }

    private static string? Join(string? a, string b) => a is null ? b : a + "; " + b;

    private static string Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>One word of ExecStart= or Environment=, quoted the way systemd unquotes it (specifiers and variables escaped).</summary>
    internal static string Argument(string word)
    {
        var escaped = new StringBuilder();
        foreach (var c in word)
        {
            escaped.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\t' => "\\t",
                '%' => "%%",
                '$' => "$$",
                _ when char.IsControl(c) => throw new UnitFormatException($"\"{word}\" holds a control character, which a unit file cannot carry", "Remove it from the unit's arguments or environment."),
                _ => c.ToString(),
            });
        }

        var text = escaped.ToString();
        return text.Length > 0 && !text.Any(c => char.IsWhiteSpace(c) || c is '\'' or ';') && text == word.Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal)
            ? text
            : "\"" + text + "\"";
    }

    /// <summary>A path setting (WorkingDirectory=, append:): no quoting, but specifiers escaped; whitespace and newlines cannot be written.</summary>
    private static string Path(string path) => path.Any(char.IsControl)
        ? throw new UnitFormatException($"the path \"{path}\" holds a control character", "Use a path without control characters.")
        : path.Replace("%", "%%", StringComparison.Ordinal);

    private static string Value(string text) => text.Replace("%", "%%", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Comment(string text) => text.Replace("\n", " ", StringComparison.Ordinal);
}
