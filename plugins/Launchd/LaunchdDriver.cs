using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Process;
using PluginHost.Plugins.Shared;

namespace PluginHost.Plugins.Launchd;

/// <summary>
/// The <c>launchd-service</c> kind: a job as launchd runs it, on the host's engine. KeepAlive is
/// decided here (the engine asks at every exit, and while the unit rests when a condition may
/// change); ThrottleInterval is the restart settings' minimum interval, with no backoff and no
/// give-up, as launchd; ExitTimeOut is the stop grace; the output paths are copies the host writes.
/// </summary>
internal sealed class LaunchdDriver : IUnitDriver
{
    public const string Kind = "launchd-service";

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => LaunchdSpec.Read(spec).Problems;

    public UnitDefaults Defaults(SpecMapping spec)
    {
        var (launchd, problems) = LaunchdSpec.Read(spec);
        if (problems.Count > 0)
        {
            return UnitDefaults.None;
        }

        return new UnitDefaults
        {
            // RunAtLoad starts it with the host; without it the engine asks KeepAlive (which may want it running now).
            Autostart = launchd.RunAtLoad,
            Restart = ThrottleOnly(launchd.ThrottleInterval, launchd.KeepAlive.Always == true ? RestartPolicy.Always : RestartPolicy.Never),
            Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(launchd.ExitTimeOut)),
        };
    }

    /// <summary>launchd's throttle and nothing else: no exponential backoff, no jitter, and it never gives up.</summary>
    public static RestartSettings ThrottleOnly(int throttleSeconds, RestartPolicy policy) => new()
    {
        Policy = policy,
        InitialBackoff = TimeSpan.Zero,
        MaxBackoff = TimeSpan.FromSeconds(Math.Max(throttleSeconds, 1)),
        Multiplier = 1,
        Jitter = 0,
        MaxRestarts = int.MaxValue,
        MinInterval = TimeSpan.FromSeconds(throttleSeconds),
    };

    public KeepAliveVerdict? KeepAlive(IUnitContext context, UnitExit? lastExit)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (spec, problems) = LaunchdSpec.Read(context.Spec);
        if (problems.Count > 0)
        {
            return null;
        }

        return spec.KeepAlive.Evaluate(lastExit, path => Exists(Resolve(context, path)), context.IsUnitEnabled);
    }

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (spec, problems) = LaunchdSpec.Read(context.Spec);
        LaunchPreflight.RequireValid(problems);
        var workingDirectory = LaunchPreflight.WorkingDirectory(context, spec.WorkingDirectory, "spec.WorkingDirectory");
        var command = LaunchPreflight.Program(spec.Command, workingDirectory, "Program or ProgramArguments[0]");

        var environment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal);
        foreach (var (name, value) in spec.EnvironmentVariables)
        {
            environment[name] = value;
        }

        var (program, arguments) = UserSwitch.Wrap(spec.UserName, spec.GroupName, command, spec.Arguments, environment);
        return ValueTask.FromResult(new LaunchPlan(program)
        {
            Arguments = arguments,
            Environment = environment,
            WorkingDirectory = workingDirectory,
            StandardOutPath = spec.StandardOutPath is null ? null : Resolve(context, spec.StandardOutPath),
            StandardErrorPath = spec.StandardErrorPath is null ? null : Resolve(context, spec.StandardErrorPath),
        });
    }

    private static string Resolve(IUnitContext context, string path) =>
        Path.GetFullPath(Path.Combine(context.ManifestDirectory, CommandLocator.ExpandHome(path)));

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);
}
