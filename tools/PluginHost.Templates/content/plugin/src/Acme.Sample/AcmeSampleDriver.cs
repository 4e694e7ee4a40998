using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

// The host runs on Linux and macOS (POSIX sessions, signals, ptys): file modes are read as such.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace Acme.Sample;

/// <summary>
/// The policy of the acme-sample unit kind. The host owns every OS resource — the process, its
/// session, pipes or pty, ports, timers — so this class only validates, plans and explains: that is
/// what lets the plugin be reloaded while its units keep running.
/// </summary>
internal sealed class AcmeSampleDriver : IUnitDriver
{
    public const string Kind = "acme-sample";

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => AcmeSampleSpec.Read(spec).Problems;

#if (sidecar)
    /// <summary>Ready when the server answers HTTP on its port; stopped with SIGTERM, then SIGKILL to its whole group after 5 s.</summary>
    public UnitDefaults Defaults(SpecMapping spec) => new()
    {
        Health = new HealthSettings
        {
            Readiness = new HttpProbe(AcmeSampleSpec.Read(spec).Spec.HealthPath, "http") { Interval = TimeSpan.FromMilliseconds(200), Timeout = TimeSpan.FromSeconds(2) },
            StartTimeout = TimeSpan.FromSeconds(30),
        },
        Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(5)),
    };

    /// <summary>The port named "http": the manifest's <c>{port:http}</c>, chosen by the host before the start.</summary>
    public IReadOnlyList<PortRequest> RequestPorts(SpecMapping spec) => [new PortRequest("http", AcmeSampleSpec.Read(spec).Spec.Port, Scan: 10)];
#else
    /// <summary>An interactive program ends with SIGHUP, as when its terminal closes.</summary>
    public UnitDefaults Defaults(SpecMapping spec) => new() { Stop = new StopSettings(UnixSignal.Hup, TimeSpan.FromSeconds(5)) };
#endif

    /// <summary>Preflight and plan: a failure here is the unit's coded error, before anything is spawned.</summary>
    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (spec, problems) = AcmeSampleSpec.Read(context.Spec);
        if (problems.Count > 0)
        {
            throw new UnitErrorException(new UnitError("ACME_SAMPLE_INVALID_SPEC", string.Join("; ", problems), "Fix the unit's spec as described; `pluginhost validate` shows every problem with its position."));
        }

        var environment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal);
        foreach (var (name, value) in spec.Environment)
        {
            environment[name] = value;
        }

        return ValueTask.FromResult(new LaunchPlan(Locate(spec.Command, environment))
        {
            Arguments = spec.Arguments,
            Environment = environment,
#if (pty)
            Io = LaunchIo.Pty,
            TerminalSize = new TerminalSize(spec.Columns, spec.Rows),
#endif
        });
    }

    /// <summary>What a person reads when the unit fails: a stable code, what happened (with the last output), and what to do.</summary>
    public UnitError Classify(UnitFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var tail = string.Join("\n", (failure.RecentOutput ?? []).TakeLast(5).Select(l => l.Text));
        var message = tail.Length > 0 ? $"{failure.Message}\nLast output:\n{tail}" : failure.Message;
        return failure.Kind switch
        {
            FailureKind.ExitedDuringStart => new UnitError("ACME_SAMPLE_EXITED_AT_START", message, "Read the last output above and the unit's logs (pluginhost logs UNIT); run the command by hand to see it fail."),
#if (sidecar)
            FailureKind.ReadinessTimeout => new UnitError("ACME_SAMPLE_NOT_READY", message, "The server did not answer spec.healthPath on its port in time: check that it listens on {port:http} and that the path answers 2xx."),
#endif
            FailureKind.Crashed => new UnitError("ACME_SAMPLE_CRASHED", message, "Read the last output above; the host restarts the unit as its restart policy says."),
            _ => UnitError.FromFailure(failure with { Message = message }),
        };
    }

    /// <summary>A path as given, or the first executable of that name on the unit's PATH.</summary>
    private static string Locate(string command, IReadOnlyDictionary<string, string> environment)
    {
        var candidates = command.Contains('/', StringComparison.Ordinal)
            ? [command]
            : (environment.GetValueOrDefault("PATH") ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Select(folder => Path.Combine(folder, command));
        return candidates.FirstOrDefault(path => File.Exists(path) && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0)
            ?? throw new UnitErrorException(new UnitError("ACME_SAMPLE_COMMAND_NOT_FOUND", $"The command \"{command}\" was not found or is not executable.",
                "Install the program, give its absolute path in spec.command, or add its folder to PATH (the unit's env may set PATH)."));
    }
}
