using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.StationBatch.Results;

namespace PluginHost.Plugins.StationBatch.Sync;

/// <summary>
/// The <c>station-sync</c> kind: the station's sync sender as a supervised process of its own
/// (restarts, logs, its own dependencies — Npgsql and Polly never enter the host), reading the
/// results database the station's batches write. This driver writes its settings, reports the
/// queue and the backend (status, gauges for <c>/metrics</c>) and nudges it (<c>sync</c>).
/// </summary>
internal sealed class StationSyncDriver : IUnitDriver
{
    public const string Kind = "station-sync";
    private const int Usr1Linux = 10;
    private const int Usr1MacOs = 30;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IUnitContext> _contexts = new(StringComparer.Ordinal);

    /// <summary>The sync units this plugin version has been given, by unit name.</summary>
    public IReadOnlyDictionary<string, IUnitContext> Units => _contexts;

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => SyncSpec.Read(spec).Problems;

    public UnitDefaults Defaults(SpecMapping spec) => new()
    {
        // The sender flushes at SIGTERM within its timeout: the grace covers it.
        Stop = new StopSettings(UnixSignal.Term, SyncSpec.Read(spec).Spec.Timeout + TimeSpan.FromSeconds(10)),
    };

    public IReadOnlyList<UnitOperation> Operations { get; } =
    [
        new("sync", "Sends the queue now and waits until it is empty (or the timeout): what POST /api/system/sync does.")
        {
            Parameters = [new OperationParameter("timeoutMs", OperationParameterType.Integer, "how long to wait for an empty queue (default 30000)")],
            LongRunning = true,
        },
        new("status", "The sync queue (depth, oldest row's age) and the backend (connected, last success, last error)."),
    ];

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _contexts[context.UnitName] = context;
        var (spec, problems) = SyncSpec.Read(context.Spec);
        if (problems.Count > 0)
        {
            throw new UnitErrorException(new UnitError("INVALID_SPEC", "The unit's spec is invalid: " + string.Join("; ", problems),
                "Fix the manifest as described; `pluginhost validate` lists every problem."));
        }

        string program;
        try
        {
            program = WorkerInstall.Ensure(Path.GetFullPath(Path.Combine(context.ManifestDirectory, spec.Program ?? SyncSpec.DefaultProgram)),
                Path.GetFullPath(Path.Combine(context.DataDirectory, "..", "..")), "station-sync.dll");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UnitErrorException(new UnitError("SYNC_PROGRAM_NOT_FOUND", $"The station's sync sender could not be installed: {ex.Message}",
                "Build it (dotnet build builds it into artifacts/station-sync/), or point spec.program at a built one."));
        }

        foreach (var variable in new[] { spec.ApiKeyEnv, spec.ConnectionEnv })
        {
            if (variable is not null && !context.Environment.ContainsKey(variable) && Environment.GetEnvironmentVariable(variable) is null)
            {
                throw new UnitErrorException(new UnitError("SYNC_SECRET_MISSING", $"The environment variable {variable} the spec names is not set.",
                    $"Set {variable} in the manifest's env: (secret by default, never shown by the API or logs) or in the host's environment."));
            }
        }

        var settings = new JsonObject
        {
            ["database"] = StationBatchDriver.ResultsPath(context),
            ["station"] = spec.Station,
            ["target"] = spec.Target,
            ["url"] = spec.Url,
            ["apiKeyEnv"] = spec.ApiKeyEnv,
            ["connectionEnv"] = spec.ConnectionEnv,
            ["intervalMs"] = (int)spec.Interval.TotalMilliseconds,
            ["timeoutMs"] = (int)spec.Timeout.TotalMilliseconds,
            ["batchSize"] = spec.BatchSize,
        };
        return ValueTask.FromResult(DotnetProgram.Plan(context, program, "sync.json", settings));
    }

    public ValueTask<AttachResult> AttachAsync(IUnitContext context, RunningProcess running, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _contexts[context.UnitName] = context;
        return ValueTask.FromResult(AttachResult.Adopt); // nothing to reconnect: the sender only needs the database
    }

    public ValueTask<IReadOnlyList<UnitGauge>> MeasureAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var status = SyncStatus.Read(StationBatchDriver.ResultsPath(context), context.Time);
        return ValueTask.FromResult<IReadOnlyList<UnitGauge>>(
        [
            new UnitGauge("sync_queue_depth", status.Depth, "result rows waiting to be sent to the backend"),
            new UnitGauge("sync_queue_oldest_age_seconds", status.OldestAgeSeconds, "how long the oldest waiting row has waited"),
            new UnitGauge("sync_backend_connected", status.Connected ? 1 : 0, "1 when the last attempt reached the backend"),
        ]);
    }

    public async ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var database = StationBatchDriver.ResultsPath(context);
        if (operation == "status")
        {
            var status = SyncStatus.Read(database, context.Time);
            return OperationResult.Ok(Summary(status), ToElement(status.ToJson()));
        }

        if (context.Process is not { } process)
        {
            return OperationResult.Fail(new UnitError("SYNC_NOT_RUNNING", $"{context.UnitName} is not running: nothing sends the queue.", $"Start it: pluginhost start {context.UnitName}."));
        }

        var timeout = TimeSpan.FromMilliseconds(arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty("timeoutMs", out var t) ? t.GetInt32() : 30_000);
        _ = kill(process.Pid, OperatingSystem.IsMacOS() ? Usr1MacOs : Usr1Linux);
        var deadline = context.Time.GetUtcNow() + timeout;
        SyncStatus now;
        while ((now = SyncStatus.Read(database, context.Time)).Depth > 0 && context.Time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), context.Time, cancellationToken).ConfigureAwait(false);
        }

        return now.Depth == 0
            ? OperationResult.Ok(Summary(now), ToElement(now.ToJson()))
            : OperationResult.Fail(new UnitError("SYNC_INCOMPLETE", $"{now.Depth} row(s) still wait after {timeout.TotalSeconds:F0} s: {now.LastError ?? "the backend is slow"}",
                "Check the backend's address and that it answers (curl it); the sender keeps trying with backoff, and nothing is lost meanwhile.")) with { Data = ToElement(now.ToJson()) };
    }

    private static string Summary(SyncStatus status) =>
        status.Depth == 0 ? $"queue empty; {status.SentTotal} row(s) sent" : $"{status.Depth} row(s) waiting (oldest {status.OldestAgeSeconds:F0} s)" + (status.LastError is { } e ? $"; last error: {e}" : "");

    private static JsonElement ToElement(JsonObject body) => JsonDocument.Parse(body.ToJsonString()).RootElement.Clone();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
