using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Logs;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Processes;
using PluginHost.Core.Supervision.Health;
using PluginHost.Core.Supervision.Launch;
using PluginHost.Core.Units;

namespace PluginHost.Core.Supervision;

/// <summary>
/// Supervises one unit. Requests (start, stop, restart) only change what the unit should be doing
/// and wake its loop; the loop alone moves the unit through the lifecycle table, so requests are
/// answered at once and idempotently, whatever the unit is in the middle of.
/// </summary>
internal sealed partial class UnitSupervisor : ISupervisedUnit, IAsyncDisposable
{
    private readonly UnitServices _services;
    private readonly Func<string, CancellationToken, Task> _waitForReady;
    private readonly Func<PluginRef?> _plugin;
    private readonly ILogger _logger;
    private readonly EventPublisher _events;
    private readonly UnitContext _context;
    private readonly RestartPlanner _planner;
    private readonly UnitProbe _probe;
    private readonly ReadinessCheck _readiness;
    private readonly LivenessMonitor _liveness;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _loop;
    private CancellationTokenSource _phase = new();
    private TaskCompletionSource _ready = NewSignal();
    private IUnitDriver _driver;
    private UnitState _state = UnitState.Idle;
    private string? _reason;
    private bool _wantRunning;
    private bool _restartRequested;
    private bool _forgetFailures;

    // An autostart of an `autostart: optional` unit is under way: a refusal by preflight leaves it stopped, not failed.
    private bool _optionalStart;
    private string _request = "start requested";

    // Counts requests (every Poke), and the count the loop last acted on: a decision the loop reached
    // without seeing the newest request (a stop during an exit) must not outlive it.
    private long _requests;
    private long _requestsSeen;
    private DateTimeOffset _nextStartAt;
    private RunningChild? _child;
    private DateTimeOffset? _startedAt;
    private int _restarts;
    private UnitError? _lastError;
    private Processes.ExitStatus? _lastExit;
    private UnitError? _giveUp;

    /// <param name="log">The unit's output log, prepared by the engine (its file opened, its data folder made) and owned by it:
    /// a unit whose manifest changes keeps its log, so followers and the tail carry on.</param>
    /// <param name="isUnitEnabled">Whether the host's manifests hold an enabled unit of that name (for the driver's KeepAlive).</param>
    public UnitSupervisor(UnitManifest manifest, IUnitDriver driver, UnitServices services, UnitLog log, Func<string, CancellationToken, Task> waitForReady, Func<PluginRef?> plugin,
        Func<string, bool>? isUnitEnabled = null)
    {
        Manifest = manifest;
        _driver = driver;
        _services = services;
        _waitForReady = waitForReady;
        _plugin = plugin;
        _logger = services.Loggers.CreateLogger("PluginHost.Unit." + manifest.Name);
        _events = new EventPublisher(services.Events, services.Time, manifest.Name, plugin: null);
        Log = log;
        _context = new UnitContext(manifest, services.UnitDataDirectory(manifest.Name), services.PluginDataDirectory(plugin()?.Name ?? manifest.Kind), services.Time, _logger,
            new EventPublisher(services.Events, services.Time, manifest.Name, plugin()?.Name, (kind, payload) => Driver.Summarize(kind, payload)), new MemoryStateBag())
        {
            Output = Log.Tail,
            UnitEnabled = isUnitEnabled ?? (_ => false),
        };
        _context.Control = new UnitControl(this);
        _planner = new RestartPlanner(manifest.Restart, services.Random);
        _probe = new UnitProbe((kind, token) => Driver.ProbeAsync(_context, kind, token), () => _context.Ports, services.Probes, services.Time);
        _readiness = new ReadinessCheck(_probe, log, services.Time);
        _liveness = new LivenessMonitor(_probe, services.Time);
        _loop = Task.Run(RunAsync);
    }

    public UnitManifest Manifest { get; }

    public UnitLog Log { get; }

    public string Name => Manifest.Name;

    public string Kind => Manifest.Kind;

    public IUnitContext Context => _context;

    public RunningProcess? Process => _context.Process;

    /// <summary>The running process's family (its session and descendants beyond it), for the usage sampler.</summary>
    internal ProcessFamily? Family => Volatile.Read(ref _child)?.Family;

    /// <summary>The running session's pseudo-terminal, when the unit runs on one.</summary>
    public Terminals.PtyTerminal? Terminal => Volatile.Read(ref _child)?.Terminal;

    public UnitState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>CPU and memory of the unit's whole process tree, set by the telemetry sampler.</summary>
    public ResourceUsage? Usage { get; set; }

    /// <summary>The latest probe that ran (for /metrics), null before any.</summary>
    public ProbeObservation? LastProbe => _probe.Last;

    /// <summary>The start the host itself makes (at host start, or when a manifest adds the unit).</summary>
    public UnitCommandResult Autostart() => Start("autostart", Manifest.AutostartOptional);

    public UnitCommandResult Start(string reason = "start requested") => Start(reason, optional: false);

    private UnitCommandResult Start(string reason, bool optional)
    {
        lock (_gate)
        {
            if (!Manifest.Enabled)
            {
                return Answer(false, $"{Name} is disabled in its manifest ({Manifest.File}); set enabled: true to run it");
            }

            if (_wantRunning && Lifecycle.WantsToRun(_state) && _state != UnitState.Backoff)
            {
                return Answer(true, $"{Name} is already {Lifecycle.Name(_state)}");
            }

            // An operator's start forgets past failures (the loop, which owns the planner, resets it).
            _forgetFailures |= _state is UnitState.Failed or UnitState.Stopped or UnitState.Idle;

            _wantRunning = true;
            _giveUp = null;
            _optionalStart = optional;
            _nextStartAt = _services.Time.GetUtcNow();
            Poke(reason);
            return Answer(true, $"starting {Name}");
        }
    }

    public UnitCommandResult Stop(string reason = "stop requested")
    {
        lock (_gate)
        {
            if (!_wantRunning && _child is null && _state is UnitState.Stopped or UnitState.Idle or UnitState.Failed)
            {
                return Answer(true, $"{Name} is already {Lifecycle.Name(_state)}");
            }

            _wantRunning = false;
            _restartRequested = false;
            Poke(reason);
            return Answer(true, $"stopping {Name}");
        }
    }

    /// <summary>Stops the unit and leaves it failed with the driver's error (a kind-specific limit).</summary>
    public UnitCommandResult GiveUp(UnitError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        lock (_gate)
        {
            _wantRunning = false;
            _restartRequested = false;
            _giveUp = error;
            Poke($"gave up: {error.Code}");
            return Answer(true, $"giving up {Name}: {error.Message}");
        }
    }

    public UnitCommandResult Restart(string reason = "restart requested")
    {
        lock (_gate)
        {
            _forgetFailures = true;
            _wantRunning = true;
            _restartRequested = true;
            _nextStartAt = _services.Time.GetUtcNow();
            Poke(reason);
            return Answer(true, $"restarting {Name}");
        }
    }

    /// <summary>Completes when the unit is ready (now, or the next time it becomes ready).</summary>
    public Task WhenReadyAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _ready.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Completes when the unit is ready; throws <see cref="UnitErrorException"/> with its last error
    /// once it has settled as failed or stopped (nothing wants it running any more). Waits through
    /// backoff and restarts, which may still bring it up.
    /// </summary>
    public Task WhenReadyOrSettledAsync(CancellationToken cancellationToken) => WaitUntilAsync(() =>
    {
        // A restart not yet taken up by the loop still has the old process ready: not that one.
        if (_state == UnitState.Ready && _child is not null && !_restartRequested)
        {
            return true;
        }

        return !_wantRunning && _state is UnitState.Failed or UnitState.Stopped or UnitState.Idle
            ? throw new UnitErrorException(_lastError ?? new UnitError("UNIT_NOT_RUNNING",
                $"{Name} is {Lifecycle.Name(_state)}{(_reason is null ? "" : $" ({_reason})")}.", $"Start {Name}, then ask again."))
            : false;
    }, cancellationToken);

    /// <summary>Completes when no process runs and none is about to: stopped, failed or idle.</summary>
    public Task WhenStoppedAsync(CancellationToken cancellationToken) =>
        WaitUntilAsync(() => _child is null && !_wantRunning && _state is UnitState.Failed or UnitState.Stopped or UnitState.Idle, cancellationToken);

    /// <param name="done">Asked under the lock now and after every state change; may throw to end the wait with an error.</param>
    private async Task WaitUntilAsync(Func<bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnChanged() => changed.TrySetResult();
            StateChanged += OnChanged;
            try
            {
                lock (_gate)
                {
                    if (done())
                    {
                        return;
                    }
                }

                await changed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                StateChanged -= OnChanged;
            }
        }
    }

    public UnitStatus Status()
    {
        lock (_gate)
        {
            return StatusLocked();
        }
    }

    public void UseDriver(IUnitDriver driver)
    {
        lock (_gate)
        {
            _driver = driver;
        }
    }

    public ValueTask RestartWithAsync(IUnitDriver driver, string reason, CancellationToken cancellationToken)
    {
        UseDriver(driver);
        Restart("plugin reload: " + reason);
        return ValueTask.CompletedTask;
    }

    private IUnitDriver Driver
    {
        get
        {
            lock (_gate)
            {
                return _driver;
            }
        }
    }

    private UnitCommandResult Answer(bool success, string message) => new(success, message, StatusLocked());

    private UnitStatus StatusLocked()
    {
        var now = _services.Time.GetUtcNow();
        var running = _child is not null && _startedAt is { } started;
        var usage = running ? Usage : null;
        return new UnitStatus(Name, Kind, Lifecycle.Name(_state), _reason, Manifest.Enabled, _child?.Pid,
            _context.Ports, running ? _startedAt : null, running ? Math.Round((now - _startedAt!.Value).TotalSeconds, 3) : null,
            _restarts, usage?.CpuPercent, usage?.RssBytes, running ? Gauges : null, _lastError, _plugin(),
            new UnitCapabilities(_child?.Terminal is not null, running ? Links() : []));
    }

    /// <summary>The driver's links for the unit now; a plugin that fails here only loses its links.</summary>
    private IReadOnlyList<UnitLink> Links()
    {
        try
        {
            return _driver.Links(_context);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogDriverFailed(Name, nameof(IUnitDriver.Links), ex.Message);
            return [];
        }
    }

    /// <summary>Wakes the loop and cancels whatever it is waiting on (backoff, readiness, a ready unit's watch).</summary>
    private void Poke(string reason)
    {
        LogRequest(Name, reason);
        _requests++;
        EndKeepAliveWatch();
        _request = reason;
        var interrupted = _phase;
        _phase = new CancellationTokenSource();
        _wake.Release();

        // Cancelled on the thread pool: Cancel() would run the loop's continuations (signals, /proc
        // scans, journal writes) inline on the caller's thread — the API request — and under _gate.
        _ = interrupted.CancelAsync();
    }

    private void Move(UnitState to, string reason, UnitError? error = null)
    {
        UnitState from;
        lock (_gate)
        {
            from = _state;
            if (from == to)
            {
                _reason = reason;
                return;
            }

            Lifecycle.Check(from, to);
            _state = to;
            _reason = reason;
            if (to == UnitState.Ready)
            {
                _ready.TrySetResult();
            }
            else if (from == UnitState.Ready)
            {
                _ready = NewSignal();
            }
        }

        var payload = new JsonObject
        {
            ["from"] = Lifecycle.Name(from),
            ["to"] = Lifecycle.Name(to),
            ["reason"] = reason,
            ["pid"] = _child?.Pid,
        };
        if (error is not null)
        {
            payload["error"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message, ["remedy"] = error.Remedy };
        }

        _events.Publish("unit_state", payload);
        _services.Journal?.RecordTransition(Name, Lifecycle.Name(from), Lifecycle.Name(to), reason, _child?.Pid, _services.Time.GetUtcNow());
        LogTransition(Name, Lifecycle.Name(from), Lifecycle.Name(to), reason);
        // The transition that follows an exit carries it: stopped, backoff, failed, or starting after a restart.
        var exit = to is UnitState.Stopped or UnitState.Backoff or UnitState.Failed or UnitState.Starting ? Interlocked.Exchange(ref _lastExit, null) : null;
        _ = NotifyDriverAsync(new UnitStateChange(from, to, reason, _services.Time.GetUtcNow(), error) { ExitCode = exit?.Code, ExitSignal = exit?.Signal });
        StateChanged?.Invoke();
    }

    private async Task NotifyDriverAsync(UnitStateChange change)
    {
        try
        {
            await Driver.OnStateChangedAsync(_context, change, _shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A plugin's failure to react to a transition must not disturb supervision.
            LogDriverFailed(Name, nameof(IUnitDriver.OnStateChangedAsync), ex.Message);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask DisposeAsync() => StopAndDisposeAsync("host stopping");

    /// <summary>Stops the unit for good (removed, changed, or the host stops): its loop ends; its log stays with the engine.</summary>
    public async ValueTask StopAndDisposeAsync(string reason)
    {
        Stop(reason);
        var deadline = (Volatile.Read(ref _child)?.Stop.Grace ?? Manifest.Stop.Grace) + StopSlack;
        if (!await WaitUntilAsync(s => s is UnitState.Stopped or UnitState.Idle or UnitState.Failed && Volatile.Read(ref _child) is null, deadline).ConfigureAwait(false))
        {
            // A stop that outlasts its grace by this much is stuck (a plugin's stop hook that ignores its
            // token, a process in uninterruptible sleep): what runs is killed, and the unit is let go.
            LogStopStuck(Name, PluginHost.Contracts.Specs.Duration.Format(deadline));
            Kill();
        }

        _shutdown.Cancel();
        lock (_gate)
        {
            _phase.Cancel();
        }

        _wake.Release();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Beyond the stop grace: the driver's hook (bounded by the grace too), SIGKILL's own wait, the output drain.</summary>
    private static readonly TimeSpan StopSlack = TimeSpan.FromSeconds(30);

    /// <summary>
    /// SIGKILL to every process of the running child's family, now (a stop that is stuck, the host's
    /// deadline), and its output holder let go: the host may exit before the unit's own stop gets as
    /// far as releasing it, and a holder, in a session of its own, would then hold a dead unit's
    /// pipes for ever.
    /// </summary>
    public void Kill()
    {
        if (Volatile.Read(ref _child) is { } child)
        {
            ProcessGroupStopper.Signal(child.Family, LibC.SIGKILL);
            child.Holder.Release();
        }
    }

    /// <summary>Waits until the state satisfies <paramref name="condition"/>; false when the deadline passes first.</summary>
    public async Task<bool> WaitUntilAsync(Func<UnitState, bool> condition, TimeSpan deadline)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (condition(State))
            {
                reached.TrySetResult();
            }
        }

        StateChanged += Check;
        try
        {
            Check();
            await reached.Task.WaitAsync(deadline, _services.Time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            StateChanged -= Check;
        }
    }

    /// <summary>Raised after every transition (and when the process is gone), outside the lock.</summary>
    private event Action? StateChanged;
}
