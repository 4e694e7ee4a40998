using System.Globalization;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Manifests;

/// <summary>
/// The host-owned sections of a unit manifest: <c>restart</c>, <c>health</c>, <c>stop</c> and one
/// entry of <c>ports</c>. Each field written overrides the same field of the defaults passed in.
/// </summary>
internal static class SupervisionSectionReader
{
    private static readonly string[] Policies = ["always", "on-failure", "never"];

    public static RestartSettings ReadRestart(SpecReader unit, RestartSettings defaults)
    {
        var node = unit.Node("restart");
        if (node is null or SpecScalar { Value: null })
        {
            return defaults;
        }

        // Shorthand: `restart: always`.
        if (node is SpecScalar)
        {
            return unit.OneOf("restart", Policies) is { } shorthand ? defaults with { Policy = ParsePolicy(shorthand) } : defaults;
        }

        var section = unit.Section("restart");
        if (section is null)
        {
            return defaults;
        }

        var result = defaults;
        if (section.OneOf("policy", Policies) is { } policy)
        {
            result = result with { Policy = ParsePolicy(policy) };
        }

        if (section.Section("backoff") is { } backoff)
        {
            result = result with
            {
                InitialBackoff = backoff.Duration("initial") ?? result.InitialBackoff,
                MaxBackoff = backoff.Duration("max") ?? result.MaxBackoff,
                Multiplier = backoff.Number("multiplier", 1, 100) ?? result.Multiplier,
                Jitter = backoff.Number("jitter", 0, 1) ?? result.Jitter,
            };
            backoff.RejectUnknownKeys();
            if (result.MaxBackoff < result.InitialBackoff)
            {
                backoff.Report(backoff.Mapping, $"max {Duration.Format(result.MaxBackoff)} below initial {Duration.Format(result.InitialBackoff)}", "max at least initial");
            }
        }

        if (section.Section("limit") is { } limit)
        {
            result = result with
            {
                MaxRestarts = limit.Int("restarts", 0, 10_000) ?? result.MaxRestarts,
                Window = limit.Duration("window", TimeSpan.FromMilliseconds(1)) ?? result.Window,
            };
            limit.RejectUnknownKeys();
        }

        result = result with
        {
            ResetAfter = section.Duration("resetAfter") ?? result.ResetAfter,
            MinInterval = section.Duration("minInterval") ?? result.MinInterval,
        };
        section.RejectUnknownKeys();
        return result;
    }

    public static HealthSettings ReadHealth(SpecReader unit, HealthSettings defaults, IReadOnlySet<string> portNames)
    {
        var section = unit.Section("health");
        if (section is null)
        {
            return defaults;
        }

        var result = defaults with
        {
            StartTimeout = section.Duration("startTimeout", TimeSpan.FromMilliseconds(1)) ?? defaults.StartTimeout,
        };
        if (section.Section("readiness") is { } readiness)
        {
            result = result with { Readiness = ReadProbe(readiness, portNames, allowLogPattern: true) ?? result.Readiness };
        }

        if (section.Section("liveness") is { } liveness)
        {
            result = result with { Liveness = ReadProbe(liveness, portNames, allowLogPattern: false) ?? result.Liveness };
        }

        section.RejectUnknownKeys();
        return result;
    }

    public static StopSettings ReadStop(SpecReader unit, StopSettings defaults)
    {
        var section = unit.Section("stop");
        if (section is null)
        {
            return defaults;
        }

        var signal = section.OneOf("signal", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGKILL");
        var result = defaults with
        {
            Signal = signal is null ? defaults.Signal : Enum.Parse<UnixSignal>(signal[3..], ignoreCase: true),
            Grace = section.Duration("grace") ?? defaults.Grace,
        };
        section.RejectUnknownKeys();
        return result;
    }

    /// <summary><c>http: 8080</c> or <c>http: {preferred: 8080, scan: 10}</c>; 0 means any free port.</summary>
    public static PortRequest? ReadPort(SpecEntry entry, SpecReader unit)
    {
        ArgumentNullException.ThrowIfNull(entry);
        const string Expected = "a port number from 0 to 65535, or {preferred, scan}";
        switch (entry.Value)
        {
            case SpecScalar { Quoted: false } scalar when int.TryParse(scalar.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= 65535:
                return new PortRequest(entry.Key, number);
            case SpecMapping mapping:
                var problems = new List<SpecProblem>();
                var section = SpecReader.ForNode(mapping, problems)!;
                var preferred = section.Int("preferred", 0, 65535);
                var scan = section.Int("scan", 0, 1000) ?? 10;
                if (preferred is null && !section.Has("preferred"))
                {
                    section.ReportMissing("preferred", "a port number from 0 to 65535");
                }

                section.RejectUnknownKeys();
                foreach (var problem in problems)
                {
                    unit.Report(problem);
                }

                return problems.Count == 0 && preferred is not null ? new PortRequest(entry.Key, preferred.Value, scan) : null;
            default:
                unit.Report(entry.Value, entry.Value.Describe(), Expected);
                return null;
        }
    }

    private static ProbeDefinition? ReadProbe(SpecReader probe, IReadOnlySet<string> portNames, bool allowLogPattern)
    {
        var kinds = allowLogPattern ? new[] { "http", "tcp", "exec", "log" } : ["http", "tcp", "exec"];
        var present = kinds.Where(k => probe.Mapping[k] is not null).ToArray();
        ProbeDefinition? definition = null;
        if (present.Length != 1)
        {
            probe.Allow(kinds);
            probe.Report(probe.Mapping, present.Length == 0 ? "no probe type" : "several probe types (" + string.Join(", ", present) + ")",
                "exactly one of " + string.Join(", ", kinds));
        }
        else
        {
            definition = present[0] switch
            {
                "http" => ReadHttp(probe, portNames),
                "tcp" => ReadTcp(probe, portNames),
                "exec" => ReadExec(probe),
                _ => ReadLog(probe),
            };
        }

        var interval = probe.Duration("interval", TimeSpan.FromMilliseconds(10));
        var timeout = probe.Duration("timeout", TimeSpan.FromMilliseconds(1));
        var threshold = probe.Int("failureThreshold", 1, 1000);
        probe.RejectUnknownKeys();
        if (definition is null)
        {
            return null;
        }

        return definition with
        {
            Interval = interval ?? definition.Interval,
            Timeout = timeout ?? definition.Timeout,
            FailureThreshold = threshold ?? definition.FailureThreshold,
        };
    }

    private static HttpProbe? ReadHttp(SpecReader probe, IReadOnlySet<string> portNames)
    {
        // Shorthand: `http: /health` when the unit has exactly one port.
        if (probe.Mapping["http"] is SpecScalar)
        {
            var path = probe.String("http") ?? "/";
            return CheckPath(probe, path, probe.Mapping["http"]!) && SinglePort(probe, portNames, probe.Mapping["http"]!) is { } single
                ? new HttpProbe(path, single)
                : null;
        }

        var section = probe.Section("http");
        if (section is null)
        {
            return null;
        }

        var pathValue = section.String("path") ?? "/";
        var port = section.String("port");
        section.RejectUnknownKeys();
        if (!CheckPath(section, pathValue, section.Mapping["path"] ?? section.Mapping))
        {
            return null;
        }

        port = port is null ? SinglePort(section, portNames, section.Mapping) : CheckPort(section, port, portNames);
        return port is null ? null : new HttpProbe(pathValue, port);
    }

    private static TcpProbe? ReadTcp(SpecReader probe, IReadOnlySet<string> portNames)
    {
        if (probe.Mapping["tcp"] is SpecScalar)
        {
            var name = probe.String("tcp");
            return (name is null ? SinglePort(probe, portNames, probe.Mapping) : CheckPort(probe, name, portNames, probe.Mapping["tcp"])) is { } port
                ? new TcpProbe(port)
                : null;
        }

        var section = probe.Section("tcp");
        if (section is null)
        {
            return null;
        }

        var portName = section.String("port");
        section.RejectUnknownKeys();
        var resolved = portName is null ? SinglePort(section, portNames, section.Mapping) : CheckPort(section, portName, portNames);
        return resolved is null ? null : new TcpProbe(resolved);
    }

    private static ExecProbe? ReadExec(SpecReader probe)
    {
        var section = probe.Section("exec");
        if (section is null)
        {
            return null;
        }

        var command = section.RequiredString("command");
        var args = section.StringList("args");
        section.RejectUnknownKeys();
        return command.Length == 0 ? null : new ExecProbe(command, args);
    }

    private static LogLineProbe? ReadLog(SpecReader probe)
    {
        var section = probe.Section("log");
        if (section is null)
        {
            return null;
        }

        var pattern = section.RequiredString("pattern");
        section.RejectUnknownKeys();
        if (pattern.Length == 0)
        {
            return null;
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return new LogLineProbe(pattern);
        }
        catch (ArgumentException ex)
        {
            section.Report(section.Mapping["pattern"]!, $"an invalid regular expression ({ex.Message})", "a .NET regular expression");
            return null;
        }
    }

    private static bool CheckPath(SpecReader reader, string path, SpecNode at)
    {
        if (path.StartsWith('/'))
        {
            return true;
        }

        reader.Report(at, $"\"{path}\"", "an HTTP path starting with /");
        return false;
    }

    private static string? CheckPort(SpecReader reader, string name, IReadOnlySet<string> portNames, SpecNode? at = null)
    {
        if (portNames.Contains(name))
        {
            return name;
        }

        reader.Report(at ?? reader.Mapping["port"] ?? reader.Mapping, $"port \"{name}\", which the unit does not declare",
            portNames.Count == 0 ? "a port declared in the unit's ports section" : "one of the unit's ports: " + string.Join(", ", portNames.Order(StringComparer.Ordinal)));
        return null;
    }

    private static string? SinglePort(SpecReader reader, IReadOnlySet<string> portNames, SpecNode at)
    {
        if (portNames.Count == 1)
        {
            return portNames.First();
        }

        reader.Report(at, portNames.Count == 0 ? "a probe that needs a port, but the unit declares none" : "no port name while the unit has several",
            portNames.Count == 0 ? "a ports section in the unit manifest" : "port: one of " + string.Join(", ", portNames.Order(StringComparer.Ordinal)));
        return null;
    }

    private static RestartPolicy ParsePolicy(string text) => text switch
    {
        "always" => RestartPolicy.Always,
        "never" => RestartPolicy.Never,
        _ => RestartPolicy.OnFailure,
    };
}
