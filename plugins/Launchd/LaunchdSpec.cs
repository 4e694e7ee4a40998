using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.Launchd;

/// <summary>
/// A <c>launchd-service</c> unit's spec: launchd.plist(5) keys, spelled as in a plist, so that a
/// job moves between a plist and a manifest key for key (docs/launchd.md has the mapping table).
/// <code>
/// spec:
///   Label: com.llmclassroom.hub
///   ProgramArguments: [/usr/bin/python3, -m, uvicorn, main:app, --port, "8003"]
///   WorkingDirectory: /srv/hub
///   EnvironmentVariables: { PYTHONUNBUFFERED: "1" }
///   RunAtLoad: true
///   KeepAlive: true            # or { SuccessfulExit: false, Crashed: true, PathState: { /tmp/go: true }, OtherJobEnabled: { proto1: true } }
///   ThrottleInterval: 30       # seconds between two spawns (launchd's default 10)
///   ExitTimeOut: 20            # SIGTERM → SIGKILL (launchd's default 20)
///   StandardOutPath: logs/hub.log
///   StandardErrorPath: logs/hub.error.log
///   UserName: classroom        # only when the host runs as root
/// </code>
/// </summary>
internal sealed record LaunchdSpec(
    string? Label,
    string Command,
    IReadOnlyList<string> Arguments,
    bool RunAtLoad,
    KeepAliveRule KeepAlive,
    int ThrottleInterval,
    int ExitTimeOut,
    string? StandardOutPath,
    string? StandardErrorPath,
    IReadOnlyDictionary<string, string> EnvironmentVariables,
    string? WorkingDirectory,
    string? UserName,
    string? GroupName)
{
    /// <summary>launchd's own defaults (launchd.plist(5)): at most one spawn every 10 s; 20 s from SIGTERM to SIGKILL.</summary>
    public const int DefaultThrottleInterval = 10;

    public const int DefaultExitTimeOut = 20;

    /// <summary>The keys this kind honours, in the order an exported plist writes them.</summary>
    public static readonly string[] Keys =
    [
        "Label", "Program", "ProgramArguments", "WorkingDirectory", "EnvironmentVariables", "UserName", "GroupName",
        "RunAtLoad", "KeepAlive", "ThrottleInterval", "ExitTimeOut", "AbandonProcessGroup", "StandardOutPath", "StandardErrorPath",
    ];

    /// <summary>launchd keys a manifest may not use (yet): what each would need, so the problem says why.</summary>
    public static readonly IReadOnlyDictionary<string, string> NotHonoured = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["StartInterval"] = "timed starts are not a supervisor's job here: use a timer (cron, a systemd timer)",
        ["StartCalendarInterval"] = "calendar starts are not supported: use cron or a systemd timer",
        ["WatchPaths"] = "starting on a path change is not supported (KeepAlive PathState is)",
        ["QueueDirectories"] = "starting while a folder is not empty is not supported",
        ["StartOnMount"] = "starting on a mount is not supported",
        ["Sockets"] = "socket activation is not supported: the program opens its own port (declare it under ports:)",
        ["MachServices"] = "Mach services exist on macOS only",
        ["StandardInPath"] = "stdin is always /dev/null",
        ["LaunchOnlyOnce"] = "not supported",
        ["inetdCompatibility"] = "not supported",
        ["EnableTransactions"] = "macOS only",
        ["EnablePressuredExit"] = "macOS only",
        ["ProcessType"] = "macOS scheduling hint: ignored",
        ["Nice"] = "not supported: wrap the program in nice(1)",
        ["Umask"] = "not supported: set it in a wrapper script",
        ["SoftResourceLimits"] = "not supported: use ulimit in a wrapper script",
        ["HardResourceLimits"] = "not supported: use ulimit in a wrapper script",
        ["LowPriorityIO"] = "not supported",
        ["LowPriorityBackgroundIO"] = "not supported",
        ["RootDirectory"] = "chroot is not supported",
        ["InitGroups"] = "groups are always initialised with UserName",
        ["TimeOut"] = "idle time-outs are not supported",
        ["LimitLoadToHosts"] = "not supported",
        ["LimitLoadFromHosts"] = "not supported",
        ["LimitLoadToSessionType"] = "macOS login sessions do not exist here",
        ["Debug"] = "ignored",
        ["WaitForDebugger"] = "not supported",
        ["OnDemand"] = "obsolete since Mac OS X 10.5: use KeepAlive",
        ["ServiceIPC"] = "obsolete",
        ["AssociatedBundleIdentifiers"] = "macOS only",
    };

    public static (LaunchdSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var label = reader.String("Label");
        var program = reader.String("Program");
        var argv = reader.StringList("ProgramArguments");
        if (program is null && argv.Count == 0)
        {
            reader.ReportMissing("ProgramArguments", "Program (a path) or ProgramArguments (the program and its arguments), as in a plist");
        }

        if ((program ?? argv.FirstOrDefault() ?? "").Contains('\0', StringComparison.Ordinal))
        {
            reader.Report(mapping["Program"] ?? mapping["ProgramArguments"]!, "a program containing a NUL character", "a program path or name");
        }

        var runAtLoad = reader.Bool("RunAtLoad") ?? false;
        var keepAlive = ReadKeepAlive(reader, mapping);
        var throttle = reader.Int("ThrottleInterval", min: 0, max: 86_400) ?? DefaultThrottleInterval;
        var exitTimeOut = reader.Int("ExitTimeOut", min: 1, max: 3_600) ?? DefaultExitTimeOut;
        if (reader.Bool("AbandonProcessGroup") == true)
        {
            reader.Report(mapping["AbandonProcessGroup"]!, "true",
                "false or nothing: the host always stops a job's whole process group, so that nothing it started outlives it (no orphans)");
        }

        var environment = reader.StringMap("EnvironmentVariables");
        var stdout = reader.String("StandardOutPath");
        var stderr = reader.String("StandardErrorPath");
        var cwd = reader.String("WorkingDirectory");
        var user = reader.String("UserName");
        var group = reader.String("GroupName");
        reader.RejectUnknownKeys();

        // launchd's own keys that are not honoured: said as such (and why), in place of "unknown key".
        var refused = mapping.Entries.Where(e => NotHonoured.ContainsKey(e.Key)).ToList();
        var paths = refused.Select(e => SpecReader.Join(mapping.Path, e.Key)).ToHashSet(StringComparer.Ordinal);
        var problems = reader.Problems.Where(p => !paths.Contains(p.Path)).Concat(refused.Select(e => new SpecProblem(SpecReader.Join(mapping.Path, e.Key), e.KeyLocation,
            $"launchd key \"{e.Key}\", which PluginHost does not honour ({NotHonoured[e.Key]})",
            "only the keys in docs/launchd.md's table; remove this one (`pluginhost import plist` leaves such keys out and lists them)"))).ToList();
        var command = program ?? argv.FirstOrDefault() ?? "";
        var arguments = argv.Count > 1 ? argv.Skip(1).ToArray() : [];
        return (new LaunchdSpec(label, command, arguments, runAtLoad, keepAlive, throttle, exitTimeOut, stdout, stderr, environment, cwd, user, group), problems);
    }

    private static KeepAliveRule ReadKeepAlive(SpecReader reader, SpecMapping mapping)
    {
        switch (mapping["KeepAlive"])
        {
            case null or SpecScalar { Value: null }:
                reader.Allow("KeepAlive");
                return KeepAliveRule.Off;
            case SpecScalar:
                return new KeepAliveRule(reader.Bool("KeepAlive") ?? false);
        }

        var conditions = reader.Section("KeepAlive");
        if (conditions is null)
        {
            return KeepAliveRule.Off;
        }

        var successful = conditions.Bool("SuccessfulExit");
        var crashed = conditions.Bool("Crashed");
        var paths = Flags(conditions, "PathState", "a mapping of paths to true (run while it exists) or false (run while it does not)");
        var jobs = Flags(conditions, "OtherJobEnabled", "a mapping of unit names to true (run while that unit is enabled) or false (while it is not)");
        // launchd's other conditions are rejected as unknown keys, with the four it honours as what is expected.
        conditions.RejectUnknownKeys();
        return new KeepAliveRule(null, successful, crashed, paths, jobs);
    }

    private static List<KeyValuePair<string, bool>> Flags(SpecReader reader, string key, string expected)
    {
        var flags = new List<KeyValuePair<string, bool>>();
        var section = reader.Section(key);
        if (section is null)
        {
            return flags;
        }

        foreach (var entry in section.Mapping.Entries)
        {
            var value = section.Bool(entry.Key);
            if (value is { } flag)
            {
                flags.Add(new(entry.Key, flag));
            }
            else if (entry.Value is SpecScalar { Value: null })
            {
                section.Report(entry.Value, "null", expected);
            }
        }

        return flags;
    }
}
