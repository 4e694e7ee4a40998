using System.Text.Json;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;

namespace PluginHost.Contracts.Units;

/// <summary>
/// The policy for one unit kind (a Nomad task driver, in spirit). The host owns every OS resource
/// (processes, pipes, ptys, ports, timers); the driver only decides: is this spec valid, what should
/// run, is it healthy, what does a failure mean, can a running process be adopted. Because the driver
/// holds no resource, the plugin that provides it can be replaced while its units keep running.
/// Members with a body are optional.
/// </summary>
public interface IUnitDriver
{
    /// <summary>Checks the unit's <c>spec</c> section and returns every problem at once (empty when valid).</summary>
    IReadOnlyList<SpecProblem> Validate(SpecMapping spec);

    /// <summary>
    /// Supervision defaults this kind wants where the manifest says nothing (a health probe,
    /// a restart policy, autostart off for on-demand sidecars…). The manifest always wins.
    /// </summary>
    UnitDefaults Defaults(SpecMapping spec) => UnitDefaults.None;

    /// <summary>Ports this kind needs besides those in the manifest's <c>ports:</c> section.</summary>
    IReadOnlyList<PortRequest> RequestPorts(SpecMapping spec) => [];

    /// <summary>
    /// Preflight and launch plan, called before every start with ports already allocated
    /// (<see cref="IUnitContext.Ports"/>). Throw <see cref="UnitErrorException"/> to fail the start
    /// with a coded error (binary missing, directory unreadable…).
    /// </summary>
    ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken);

    /// <summary>A kind-specific probe; <see cref="ProbeResult.Unsupported"/> lets the manifest's health section decide.</summary>
    ValueTask<ProbeResult> ProbeAsync(IUnitContext context, ProbeKind kind, CancellationToken cancellationToken)
        => ValueTask.FromResult(ProbeResult.Unsupported);

    /// <summary>
    /// Whether a unit of this kind should run (again) now (since 1.7): asked when its process ended
    /// on its own (<paramref name="lastExit"/> says how), and when it rests without having run
    /// (<paramref name="lastExit"/> null) if the manifest does not start it with the host. Null lets
    /// the manifest's restart policy decide, as for every kind that does not implement it. No I/O
    /// beyond a file's existence: it is asked on the unit's own loop.
    /// </summary>
    KeepAliveVerdict? KeepAlive(IUnitContext context, UnitExit? lastExit) => null;

    /// <summary>Turns a failure seen by the host into the coded error a person will read.</summary>
    UnitError Classify(UnitFailure failure) => UnitError.FromFailure(failure);

    /// <summary>
    /// Called when the driver takes over a process it did not prepare: after a plugin hot reload
    /// (the new version inherits the old one's units) or after a host restart. Refusing makes the
    /// host stop the process and start the unit again.
    /// </summary>
    ValueTask<AttachResult> AttachAsync(IUnitContext context, RunningProcess running, CancellationToken cancellationToken)
        => ValueTask.FromResult(AttachResult.Adopt);

    /// <summary>Runs before the stop signal (e.g. a SHUTDOWN command over IPC); the grace period still applies after it.</summary>
    ValueTask StopAsync(IUnitContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Told of every lifecycle transition of a unit of this kind, e.g. to publish kind-specific events.</summary>
    ValueTask OnStateChangedAsync(IUnitContext context, UnitStateChange change, CancellationToken cancellationToken)
        => ValueTask.CompletedTask;

    /// <summary>
    /// Kind-specific gauges of a running unit (e.g. GPU memory), asked at the telemetry interval
    /// with CPU and RSS, never twice at once for one unit. It must not block: do slow work
    /// asynchronously, or cache. A failure or a timeout only leaves the gauges out.
    /// </summary>
    ValueTask<IReadOnlyList<UnitGauge>> MeasureAsync(IUnitContext context, CancellationToken cancellationToken)
        => ValueTask.FromResult<IReadOnlyList<UnitGauge>>([]);

    /// <summary>
    /// Links a unit of this kind offers now (since 1.5), e.g. a ready web server's page: shown on the
    /// dashboard beside the unit and on its status record. Asked with every status: no I/O here.
    /// </summary>
    IReadOnlyList<UnitLink> Links(IUnitContext context) => [];

    /// <summary>
    /// One line saying what an event this kind published means (since 1.5), e.g. "serving on port
    /// 8121 (pid 4711)" — the event stream and the dashboard show it. Null: the payload is shown as it is.
    /// </summary>
    string? Summarize(string kind, JsonElement payload) => null;

    /// <summary>Extra operations this kind offers (<c>POST /api/units/{name}/ops/{op}</c>).</summary>
    IReadOnlyList<UnitOperation> Operations => [];

    /// <summary>Runs one of <see cref="Operations"/>; arguments were already checked against its parameters.</summary>
    ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken)
        => ValueTask.FromResult(OperationResult.Fail($"unit kind does not offer the operation \"{operation}\""));
}
