using System.Text.RegularExpressions;
using PluginHost.Contracts.Formats;
using PluginHost.Plugins.Launchd.Plist;

namespace PluginHost.Plugins.Launchd.Formats;

/// <summary>
/// launchd job descriptions: a LaunchAgent or LaunchDaemon plist (XML or binary) in, a
/// <c>launchd-service</c> manifest out, every key it cannot honour listed; and back, for any unit.
/// </summary>
internal sealed partial class PlistFormat : IUnitFormat
{
    public string Name => "plist";

    public string Description => "launchd job descriptions (LaunchAgents, LaunchDaemons): XML or binary plists in, XML plists out";

    public bool CanImport => true;

    public UnitImport Import(string path, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        PlistValue root;
        try
        {
            root = PlistReader.Read(content);
        }
        catch (PlistException ex)
        {
            throw new UnitFormatException($"{path}: {ex.Message}", "Check the file with `plutil -lint` (macOS) or `python3 -m plistlib`; a job description is a plist whose top value is a dict.");
        }

        if (root is not PlistDict job)
        {
            throw new UnitFormatException($"{path}: the top value is a {root.TypeName}, not the dict of a launchd job", "Import a launchd job description (a dict with Label and ProgramArguments).");
        }

        var notes = new List<FormatNote>();
        var label = job["Label"] is PlistString { Value.Length: > 0 } l ? l.Value : Path.GetFileNameWithoutExtension(path);
        if (job["Label"] is null)
        {
            notes.Add(new("Label", $"missing (launchd requires it): the unit is named after the file, {label}"));
        }

        var unitName = UnitName(label);
        var yaml = new YamlText()
            .Comment($"Imported from {Path.GetFileName(path)} by `pluginhost import plist` (docs/launchd.md).")
            .Scalar(0, "apiVersion", "pluginhost/v1")
            .Scalar(0, "kind", LaunchdDriver.Kind)
            .Scalar(0, "name", unitName);
        if (job["Disabled"] is PlistBoolean { Value: true })
        {
            yaml.Scalar(0, "enabled", false);
        }

        if (job["ProgramArguments"] is PlistArray argv && Port(argv) is { } port)
        {
            yaml.Key(0, "ports").Line(1, $"http: {{ preferred: {port}, scan: 0 }}");
            notes.Add(new("ProgramArguments", $"port {port} is in the arguments: declared under ports: (exactly that port) so that the port-conflict monitor watches it"));
        }

        yaml.Key(0, "spec");
        foreach (var key in LaunchdSpec.Keys)
        {
            if (job[key] is { } value)
            {
                WriteKey(yaml, key, value, notes);
            }
        }

        foreach (var (key, _) in job.Entries.Where(e => !LaunchdSpec.Keys.Contains(e.Key) && e.Key != "Disabled"))
        {
            notes.Add(new(key, LaunchdSpec.NotHonoured.TryGetValue(key, out var why) ? $"not honoured, left out: {why}" : "not a launchd key PluginHost knows, left out"));
        }

        return new UnitImport([new ImportedManifest(unitName, yaml.ToString())], notes);
    }

    private static void WriteKey(YamlText yaml, string key, PlistValue value, List<FormatNote> notes)
    {
        switch (key, value)
        {
            case ("ProgramArguments", PlistArray array) when array.Items.All(i => i is PlistString):
                yaml.List(1, key, array.Items.Cast<PlistString>().Select(s => s.Value));
                break;
            case ("EnvironmentVariables", PlistDict env) when env.Entries.All(e => e.Value is PlistString):
                yaml.Key(1, key);
                foreach (var (name, item) in env.Entries)
                {
                    yaml.Scalar(2, name, ((PlistString)item).Value);
                }

                break;
            case ("RunAtLoad", PlistBoolean b):
                yaml.Scalar(1, key, b.Value);
                break;
            case ("AbandonProcessGroup", PlistBoolean b):
                if (b.Value)
                {
                    notes.Add(new(key, "true is not honoured, left out: the host always stops the job's whole process group (no orphans)"));
                }
                else
                {
                    yaml.Scalar(1, key, false);
                }

                break;
            case ("ThrottleInterval" or "ExitTimeOut", PlistInteger i):
                if (key == "ExitTimeOut" && i.Value == 0)
                {
                    notes.Add(new(key, "0 (wait forever) is not honoured, left out: the stop grace is launchd's default, 20 s"));
                }
                else if (i.Value is < 0 or > 86_400)
                {
                    notes.Add(new(key, $"{i.Value} is out of range, left out"));
                }
                else
                {
                    yaml.Scalar(1, key, i.Value);
                }

                break;
            case ("KeepAlive", PlistBoolean b):
                yaml.Scalar(1, key, b.Value);
                break;
            case ("KeepAlive", PlistDict conditions):
                WriteKeepAlive(yaml, conditions, notes);
                break;
            case ("Label" or "Program" or "WorkingDirectory" or "UserName" or "GroupName" or "StandardOutPath" or "StandardErrorPath", PlistString s):
                yaml.Scalar(1, key, s.Value);
                break;
            default:
                notes.Add(new(key, $"is a {value.TypeName}, which launchd does not take for this key: left out"));
                break;
        }
    }

    private static void WriteKeepAlive(YamlText yaml, PlistDict conditions, List<FormatNote> notes)
    {
        yaml.Key(1, "KeepAlive");
        foreach (var (name, value) in conditions.Entries)
        {
            switch (name, value)
            {
                case ("SuccessfulExit" or "Crashed", PlistBoolean b):
                    yaml.Scalar(2, name, b.Value);
                    break;
                case ("PathState" or "OtherJobEnabled", PlistDict flags) when flags.Entries.All(f => f.Value is PlistBoolean):
                    yaml.Key(2, name);
                    foreach (var (what, flag) in flags.Entries)
                    {
                        var target = name == "OtherJobEnabled" ? UnitName(what) : what;
                        if (target != what)
                        {
                            notes.Add(new($"KeepAlive.OtherJobEnabled.{what}", $"the label is the unit name {target} here"));
                        }

                        yaml.Scalar(3, target, ((PlistBoolean)flag).Value);
                    }

                    break;
                default:
                    notes.Add(new($"KeepAlive.{name}", "not honoured, left out (PluginHost honours SuccessfulExit, Crashed, PathState, OtherJobEnabled)"));
                    break;
            }
        }
    }

    /// <summary>A label as a unit name: the characters a unit name may not hold become '-'.</summary>
    internal static string UnitName(string label)
    {
        var name = NotNameCharacter().Replace(label, "-").TrimStart('-', '.', '_');
        name = name.Length == 0 ? "job" : name;
        return name.Length > 64 ? name[..64] : name;
    }

    /// <summary>The port a server is told to listen on (<c>--port N</c>, <c>--port=N</c>), if its arguments say.</summary>
    private static int? Port(PlistArray argv)
    {
        var args = argv.Items.OfType<PlistString>().Select(s => s.Value).ToList();
        for (var i = 0; i < args.Count; i++)
        {
            var text = args[i] == "--port" && i + 1 < args.Count ? args[i + 1] : args[i].StartsWith("--port=", StringComparison.Ordinal) ? args[i][7..] : null;
            if (int.TryParse(text, out var port) && port is > 0 and < 65536)
            {
                return port;
            }
        }

        return null;
    }

    public string ExportFileName(ExportedUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return ExportedJob.From(unit).Job.Label + ".plist";
    }

    public UnitExport Export(ExportedUnit unit)
    {
        var (job, notes) = ExportedJob.From(unit);
        var entries = new List<KeyValuePair<string, PlistValue>>
        {
            new("Label", new PlistString(job.Label)),
        };
        if (job.Disabled)
        {
            entries.Add(new("Disabled", new PlistBoolean(true)));
        }

        entries.Add(new("ProgramArguments", new PlistArray([new PlistString(job.Program), .. job.Arguments.Select(a => new PlistString(a))])));
        Add(entries, "WorkingDirectory", job.WorkingDirectory);
        if (job.Environment.Count > 0)
        {
            entries.Add(new("EnvironmentVariables", new PlistDict([.. job.Environment.Select(e => new KeyValuePair<string, PlistValue>(e.Key, new PlistString(e.Value)))])));
        }

        Add(entries, "UserName", job.UserName);
        Add(entries, "GroupName", job.GroupName);
        entries.Add(new("RunAtLoad", new PlistBoolean(job.RunAtLoad)));
        entries.Add(new("KeepAlive", KeepAlive(job.KeepAlive)));
        entries.Add(new("ThrottleInterval", new PlistInteger(job.ThrottleInterval)));
        entries.Add(new("ExitTimeOut", new PlistInteger(job.ExitTimeOut)));
        entries.Add(new("AbandonProcessGroup", new PlistBoolean(false)));
        Add(entries, "StandardOutPath", job.StandardOutPath);
        Add(entries, "StandardErrorPath", job.StandardErrorPath);
        if (job.After.Count > 0)
        {
            notes.Add(new("after", $"launchd has no start order: {string.Join(", ", job.After)} may start after this job"));
        }

        if (job.Restart.MaxRestarts != int.MaxValue && job.KeepAlive.Always != false)
        {
            notes.Add(new("restart.limit", $"launchd never gives up: the limit of {job.Restart.MaxRestarts} restarts within {job.Restart.Window.TotalSeconds:0} s is not carried over"));
        }

        try
        {
            return new UnitExport(PlistWriter.Write(new PlistDict(entries)), notes);
        }
        catch (ArgumentException ex)
        {
            throw new UnitFormatException($"{unit.Name}: {ex.Message}", "Remove control characters from the unit's arguments and environment, then export again.");
        }
    }

    private static PlistValue KeepAlive(KeepAliveRule rule)
    {
        if (rule.Always is { } always)
        {
            return new PlistBoolean(always);
        }

        var entries = new List<KeyValuePair<string, PlistValue>>();
        if (rule.SuccessfulExit is { } successful)
        {
            entries.Add(new("SuccessfulExit", new PlistBoolean(successful)));
        }

        if (rule.Crashed is { } crashed)
        {
            entries.Add(new("Crashed", new PlistBoolean(crashed)));
        }

        if (rule.Paths.Count > 0)
        {
            entries.Add(new("PathState", new PlistDict([.. rule.Paths.Select(p => new KeyValuePair<string, PlistValue>(p.Key, new PlistBoolean(p.Value)))])));
        }

        if (rule.Jobs.Count > 0)
        {
            entries.Add(new("OtherJobEnabled", new PlistDict([.. rule.Jobs.Select(j => new KeyValuePair<string, PlistValue>(j.Key, new PlistBoolean(j.Value)))])));
        }

        return new PlistDict(entries);
    }

    private static void Add(List<KeyValuePair<string, PlistValue>> entries, string key, string? value)
    {
        if (value is not null)
        {
            entries.Add(new(key, new PlistString(value)));
        }
    }

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex NotNameCharacter();
}
