using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.StationBatch.Results;
using PluginHost.Station.Protocol;

namespace PluginHost.Plugins.StationBatch;

/// <summary>
/// One unit per batch: the host supervises the worker process (session, restarts, logs, re-attach);
/// this driver is the batch's master — it writes the worker's settings, keeps the ROUTER the worker
/// connects to, turns operations into commands, and says the worker is ready and alive from its
/// heartbeats.
/// </summary>
internal sealed partial class StationBatchDriver : IUnitDriver, IAsyncDisposable
{
    public const string Kind = "station-batch";
    public const string PortName = "master";
    private readonly ConcurrentDictionary<string, BatchMaster> _masters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IUnitContext> _contexts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (SpecMapping Mapping, BatchSpec Spec)> _specs = new(StringComparer.Ordinal);

    /// <summary>The station's WebSocket clients: told of every event a master takes.</summary>
    public Api.StationHub Hub { get; } = new();

    /// <summary>The batch units this plugin version has been given (prepared, adopted or probed), by unit name.</summary>
    public IReadOnlyDictionary<string, IUnitContext> Units => _contexts;

    public BatchMaster? MasterOf(string unit) => _masters.GetValueOrDefault(unit);

    /// <summary>
    /// A unit's spec, read once per version of its manifest (a changed manifest is a new mapping): the
    /// liveness probe at every heartbeat and the station API at every request ask for it. Kept by this
    /// driver, never in a static the host's objects could reach: that would keep a replaced plugin alive.
    /// </summary>
    public BatchSpec SpecOf(IUnitContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_specs.TryGetValue(context.UnitName, out var known) && ReferenceEquals(known.Mapping, context.Spec))
        {
            return known.Spec;
        }

        var spec = BatchSpec.Read(context.Spec).Spec;
        _specs[context.UnitName] = (context.Spec, spec);
        return spec;
    }

    /// <summary>The batch id: <c>spec.batch</c>, else the unit's name.</summary>
    public string BatchIdOf(IUnitContext context) => SpecOf(context).Batch ?? context.UnitName;

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => BatchSpec.Read(spec).Problems;

    public UnitDefaults Defaults(SpecMapping spec)
    {
        var heartbeat = BatchSpec.Read(spec).Spec.Heartbeat;

        // The probes below only carry interval and threshold: ProbeAsync answers both from the
        // worker's heartbeats, so the host never opens the port itself.
        return new UnitDefaults
        {
            Health = new HealthSettings
            {
                Readiness = new TcpProbe(PortName) { Interval = TimeSpan.FromMilliseconds(100) },
                Liveness = new TcpProbe(PortName) { Interval = heartbeat, FailureThreshold = 3 },
                StartTimeout = TimeSpan.FromSeconds(30),
            },
            Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(30)),
        };
    }

    public IReadOnlyList<PortRequest> RequestPorts(SpecMapping spec) => [new PortRequest(PortName, 5600, 400)];

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (spec, problems) = BatchSpec.Read(context.Spec);
        if (problems.Count > 0)
        {
            throw new UnitErrorException(new UnitError("INVALID_SPEC", "The unit's spec is invalid: " + string.Join("; ", problems),
                "Fix the manifest as described; `pluginhost validate` lists every problem."));
        }

        var package = Path.GetFullPath(Path.Combine(context.ManifestDirectory, spec.Sequence));
        if (!File.Exists(Path.Combine(package, "sequence.yaml")))
        {
            throw new UnitErrorException(new UnitError("SEQUENCE_PACKAGE_NOT_FOUND", $"No sequence package at {package} (no sequence.yaml there).",
                "Fix spec.sequence (relative paths start at the manifest's folder), or create the package."));
        }

        var dataRoot = Path.GetFullPath(Path.Combine(context.DataDirectory, "..", ".."));
        string worker;
        try
        {
            worker = WorkerInstall.Ensure(Path.GetFullPath(Path.Combine(context.ManifestDirectory, spec.Worker ?? BatchSpec.DefaultWorker)), dataRoot);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UnitErrorException(new UnitError("WORKER_NOT_FOUND", $"The station worker could not be installed: {ex.Message}",
                "Build it (dotnet build builds it into artifacts/station-worker/), or point spec.worker at a built worker; check the data folder is writable."));
        }

        var batch = spec.Batch ?? context.UnitName;
        var port = context.Ports[PortName];
        var master = Master(context, batch, NewSession(), port);
        var settings = new JsonObject
        {
            ["batch"] = batch,
            ["session"] = master.Session,
            ["name"] = spec.Name.Length > 0 ? spec.Name : batch,
            ["master"] = master.Endpoint,
            ["package"] = package,
            ["drivers"] = Path.GetFullPath(Path.Combine(context.ManifestDirectory, spec.Drivers ?? BatchSpec.DefaultDrivers)),
            ["hardware"] = new JsonObject(spec.Hardware.Select(h => KeyValuePair.Create<string, JsonNode?>(h.Slot, new JsonObject
            {
                ["driver"] = h.Driver,
                ["address"] = h.Address,
                ["port"] = h.Port,
                ["connect"] = h.Connect,
                ["options"] = new JsonObject(h.Options.Select(o => KeyValuePair.Create<string, JsonNode?>(o.Key, o.Value))),
            }))),
            ["parameters"] = spec.Parameters.DeepClone(),
            ["heartbeatMs"] = (int)spec.Heartbeat.TotalMilliseconds,
        };
        return ValueTask.FromResult(DotnetProgram.Plan(context, worker, "batch.json", settings));
    }

    public ValueTask<AttachResult> AttachAsync(IUnitContext context, RunningProcess running, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        // A new plugin version, or a host that restarted: a master is bound again on the unit's port;
        // the worker reconnects by itself and sends again what was not acknowledged.
        if (!context.Ports.TryGetValue(PortName, out var port))
        {
            return ValueTask.FromResult(AttachResult.Refuse("the unit has no master port recorded"));
        }

        if (ReadSession(context) is not { } session)
        {
            return ValueTask.FromResult(AttachResult.Refuse("the worker's settings (batch.json) are gone: its session is not known"));
        }

        Master(context, BatchIdOf(context), session, port);
        return ValueTask.FromResult(AttachResult.Adopt);
    }

    public ValueTask<ProbeResult> ProbeAsync(IUnitContext context, ProbeKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_masters.TryGetValue(context.UnitName, out var master) || context.Process is not { } process)
        {
            return ValueTask.FromResult(ProbeResult.Unhealthy("no master for this batch yet"));
        }

        var heard = master.LastHeard;
        if (kind == ProbeKind.Readiness)
        {
            return ValueTask.FromResult(heard >= process.StartedAt ? ProbeResult.Healthy : ProbeResult.Unhealthy("the worker has not connected yet"));
        }

        var spec = SpecOf(context);
        // Silence counts from the last heartbeat, or from when this master (a new plugin version's, a
        // restarted host's) began listening: a worker it has not heard yet is not dead yet.
        var since = heard ?? (master.Started > process.StartedAt ? master.Started : process.StartedAt);
        var silence = context.Time.GetUtcNow() - since;
        return ValueTask.FromResult(silence <= spec.Heartbeat * 2.5
            ? ProbeResult.Healthy
            : ProbeResult.Unhealthy($"no heartbeat for {silence.TotalSeconds:F1} s (every {spec.Heartbeat.TotalSeconds:F1} s expected)"));
    }

    public async ValueTask StopAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_masters.TryGetValue(context.UnitName, out var master))
        {
            // SHUTDOWN stops the execution at its next step boundary and runs its teardown; the host's
            // stop signal, grace and SIGKILL follow whatever happens here. Its duration is logged: the
            // seed's shutdown order (§7.2) is one line per step with its time.
            var started = context.Time.GetTimestamp();
            var reply = await master.SendAsync(MessageTypes.Shutdown, null, cancellationToken).ConfigureAwait(false);
            LogShutdown(context.Logger, master.Batch, reply.Ok == true ? "the running sequence stopped and its teardown ran" : $"the worker did not confirm ({reply.Error})",
                context.Time.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    public async ValueTask OnStateChangedAsync(IUnitContext context, UnitStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(change);
        _contexts[context.UnitName] = context;
        Hub.Publish(BatchIdOf(context), "BATCH_STATUS", new JsonObject { ["state"] = change.To.ToString().ToLowerInvariant(), ["unit"] = context.UnitName });
        if (change.From is UnitState.Ready or UnitState.Stopping or UnitState.Restarting
            && change.To is UnitState.Backoff or UnitState.Failed or UnitState.Stopped
            && _masters.TryGetValue(context.UnitName, out var master))
        {
            var how = change.ExitSignal is { } signal ? $"signal {signal}" : change.ExitCode is { } code ? $"exit code {code}" : "an unknown exit";
            await master.AbortUnfinishedAsync($"the worker ended ({how}) during the execution").ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var master in _masters.Values)
        {
            await master.DisposeAsync().ConfigureAwait(false);
        }

        _masters.Clear();
    }

    /// <summary>The unit's master for this worker session, made (or remade) as needed.</summary>
    private BatchMaster Master(IUnitContext context, string batch, string session, int port)
    {
        _contexts[context.UnitName] = context;
        if (_masters.TryGetValue(context.UnitName, out var existing))
        {
            if (existing.Endpoint == $"tcp://127.0.0.1:{port}" && existing.Session == session)
            {
                return existing;
            }

            _masters.TryRemove(context.UnitName, out _);
            existing.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        var results = ResultsPath(context);
        try
        {
            return _masters.GetOrAdd(context.UnitName, _ => new BatchMaster(batch, session, port, results, SpecOf(context).Station,
                context.DataDirectory, context.Events, context.Logger, context.Time, Hub.Publish));
        }
        catch (Exception ex) when (ex is SqliteFailure or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new UnitErrorException(new UnitError("RESULTS_UNAVAILABLE", $"The station's results database {results} cannot be opened: {ex.Message}",
                "Check that the data folder is writable and has room; a database of a newer plugin needs that plugin (docs/station.md, \"Results\")."));
        }
    }

    /// <summary>One results database per station: the host's folder for this kind, shared by every batch.</summary>
    internal static string ResultsPath(IUnitContext context) => Path.Combine(context.PluginDataDirectory, "results.db");

    private static string NewSession() => Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();

    /// <summary>The session of the worker that runs (from the settings it was started with).</summary>
    private static string? ReadSession(IUnitContext context)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(context.DataDirectory, "batch.json")))?["session"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 30, Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "batch {Batch} stopping: {What} in {Milliseconds:F0} ms")]
    private static partial void LogShutdown(Microsoft.Extensions.Logging.ILogger logger, string batch, string what, double milliseconds);
}
