using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Process;
using PluginHost.Plugins.Shimmy.Accel;
using PluginHost.Plugins.Shimmy.Models;

namespace PluginHost.Plugins.Shimmy;

/// <summary>
/// Runs <c>shimmy [--model-dirs DIR] [--gpu-backend B] serve --bind HOST:{port:http}</c> on demand:
/// never at host start (autostart off), on <c>start</c> or the first <c>ensureReady</c>. Preflight
/// (binary, models folder, log level, model, accelerator) fails early with a coded error; readiness
/// and liveness ask <c>/v1/models</c>; a start timeout gets one restart, then START_TIMEOUT; the
/// unit's runtime folder (TMPDIR, locks, sockets) is emptied before each start and after each stop.
/// </summary>
internal sealed partial class ShimmyDriver(IAccelProbes accelProbes, ModelDownloader downloader) : IUnitDriver
{
    public const string Kind = "shimmy";
    private const string StartTimeoutsKey = "shimmy.startTimeouts";
    private const string AccelKey = "shimmy.accel";
    private const string ModelKey = "shimmy.model";

    /// <summary>One download per model file, shared by every caller (concurrent ensureReady, the download operation).</summary>
    private readonly ConcurrentDictionary<string, Lazy<Task<int>>> _downloads = new(StringComparer.Ordinal);

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => ShimmySpec.Read(spec).Problems;

    public UnitDefaults Defaults(SpecMapping spec)
    {
        var (shimmy, _) = ShimmySpec.Read(spec);
        return new UnitDefaults
        {
            Autostart = false, // the seed: started when the on-device model is enabled, not with the app
            Health = new HealthSettings
            {
                Readiness = new HttpProbe("/v1/models", "http") { Interval = TimeSpan.FromMilliseconds(250), Timeout = TimeSpan.FromSeconds(5) },
                Liveness = new HttpProbe("/v1/models", "http") { Interval = TimeSpan.FromSeconds(10), Timeout = TimeSpan.FromSeconds(5), FailureThreshold = 3 },
                StartTimeout = shimmy.StartTimeout,
            },
            Restart = new RestartSettings { Policy = RestartPolicy.OnFailure, MaxRestarts = shimmy.MaxRestarts, Window = TimeSpan.FromMinutes(10) },
            Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(5)),
        };
    }

    public IReadOnlyList<PortRequest> RequestPorts(SpecMapping spec)
    {
        var (shimmy, _) = ShimmySpec.Read(spec);
        return [new PortRequest("http", shimmy.Port, shimmy.PortScan)];
    }

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var setup = Preflight(context);
        var runtime = RuntimeDirectory(context);
        CleanRuntimeDirectory(runtime);
        Directory.CreateDirectory(runtime);
        context.State.Set(AccelKey, AccelDetector.Name(setup.Accelerator));
        context.State.Set(ModelKey, setup.ModelPath);

        var environment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal)
        {
            ["SHIMMY_LOG_LEVEL"] = setup.LogLevel,
            ["SHIMMY_MODELS_DIR"] = setup.ModelsDirectory,
            ["TMPDIR"] = runtime,
        };
        if (setup.ModelPath is not null)
        {
            environment["SHIMMY_BASE_GGUF"] = setup.ModelPath;
        }

        List<string> arguments = ["--model-dirs", setup.ModelsDirectory, .. AccelDetector.Flags(setup.Accelerator), "serve", "--bind", $"{setup.Spec.Host}:{{port:http}}"];
        if (setup.ModelPath is not null)
        {
            arguments.AddRange(["--model-path", setup.ModelPath]);
        }

        arguments.AddRange(setup.Spec.Arguments);
        return ValueTask.FromResult(new LaunchPlan(setup.Binary)
        {
            Arguments = arguments,
            Environment = environment,
            WorkingDirectory = runtime,
            Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(5)),
        });
    }

    /// <summary>GPU memory of the running server, when nvidia-smi can tell (the seed's telemetry item), on the unit's status and in /metrics.</summary>
    public async ValueTask<IReadOnlyList<UnitGauge>> MeasureAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        var megabytes = await GpuMemoryMegabytesAsync(context, cancellationToken).ConfigureAwait(false);
        return megabytes is { } used ? [new UnitGauge("gpu_memory_bytes", used * 1024d * 1024d, "GPU memory held by the unit's process (nvidia-smi).")] : [];
    }

    public UnitError Classify(UnitFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var culture = CultureInfo.CurrentUICulture;
        var tail = string.Join('\n', (failure.RecentOutput ?? []).TakeLast(15).Select(l => l.Text));
        var withOutput = tail.Length > 0 ? $"{failure.Message}\nLast output:\n{tail}" : failure.Message;
        return failure.Kind switch
        {
            FailureKind.ReadinessTimeout => ShimmyErrors.Create(ShimmyErrorCode.StartTimeout, withOutput, culture, "raise spec.startTimeout if the model is just slow to load"),
            FailureKind.LivenessFailed => ShimmyErrors.Create(ShimmyErrorCode.HealthcheckFailed, withOutput, culture, "pluginhost logs NAME"),
            FailureKind.PortUnavailable => ShimmyErrors.Create(ShimmyErrorCode.PortInUse, failure.Message, culture, "change spec.port or free the ports"),
            FailureKind.GaveUp => new UnitError("CRASH_LOOP", $"shimmy kept exiting and was not restarted again: {withOutput}",
                "Read the output above and the unit's logs (model file, GPU driver); `start` tries again from zero."),
            _ => UnitError.FromFailure(failure with { Message = withOutput }),
        };
    }

    public ValueTask OnStateChangedAsync(IUnitContext context, UnitStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(change);
        context.Events.Publish("shimmy_state", new JsonObject { ["state"] = SeedState(change.To), ["reason"] = change.Reason });
        switch (change.To)
        {
            case UnitState.Ready:
                context.State.Set(StartTimeoutsKey, null);
                context.Events.Publish("shimmy_ready", new JsonObject
                {
                    ["port"] = Port(context),
                    ["pid"] = context.Process?.Pid,
                    ["accel"] = context.State.Get(AccelKey),
                    ["model"] = context.State.Get(ModelKey),
                });
                break;
            case UnitState.Backoff when change.Error?.Code == "START_TIMEOUT":
                // The seed: after a start timeout, kill and restart at most once.
                var timeouts = int.Parse(context.State.Get(StartTimeoutsKey) ?? "0", CultureInfo.InvariantCulture) + 1;
                context.State.Set(StartTimeoutsKey, timeouts.ToString(CultureInfo.InvariantCulture));
                if (timeouts >= 2)
                {
                    context.Control.GiveUp(change.Error);
                }

                break;
            case UnitState.Backoff when change.Error?.Code == "PORT_IN_USE":
                // The seed: the preferred port and every backup taken → stop, no retry loop.
                context.Control.GiveUp(change.Error);
                break;
            case UnitState.Failed:
                context.State.Set(StartTimeoutsKey, null);
                CleanRuntimeDirectory(RuntimeDirectory(context));
                // The explicit notification the seed asks for: the GUI/CLI show it, it is not just a state.
                var error = change.Error;
                context.Events.Publish("shimmy_failed", new JsonObject { ["code"] = error?.Code, ["message"] = error?.Message, ["remedy"] = error?.Remedy, ["reason"] = change.Reason });
                break;
            case UnitState.Stopped:
                CleanRuntimeDirectory(RuntimeDirectory(context));
                break;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The seed's states: idle → starting → ready → restarting → stopping (docs/shimmy.md has the mapping).</summary>
    public static string SeedState(UnitState state) => state switch
    {
        UnitState.Starting => "starting",
        UnitState.Ready => "ready",
        UnitState.Backoff or UnitState.Restarting => "restarting",
        UnitState.Stopping => "stopping",
        UnitState.Failed => "failed",
        _ => "idle",
    };

    private static string RuntimeDirectory(IUnitContext context) => Path.Combine(context.DataDirectory, "run");

    /// <summary>Temporary files, lock files and sockets of the last run: gone, so the next start is clean.</summary>
    private static void CleanRuntimeDirectory(string runtime)
    {
        if (Directory.Exists(runtime))
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    private static int? Port(IUnitContext context) => context.Ports.TryGetValue("http", out var port) ? port : null;
}
