using System.Text.Json.Nodes;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Processes;
using PluginHost.Core.Storage;
using PluginHost.Core.Supervision.Launch;
using PluginHost.Core.Supervision.Stopping;

namespace PluginHost.Core.Supervision;

internal sealed partial class UnitSupervisor
{
    private async Task RunAsync()
    {
        var faults = 0;
        while (!_shutdown.IsCancellationRequested)
        {
            await _wake.WaitAsync(_shutdown.Token).ConfigureAwait(false);
            CancellationToken phase;
            lock (_gate)
            {
                phase = _phase.Token;
            }

            try
            {
                await ReconcileAsync(phase).ConfigureAwait(false);
                faults = 0;
            }
            catch (OperationCanceledException) when (phase.IsCancellationRequested && !_shutdown.IsCancellationRequested)
            {
                // A newer request changed the goal; the next wake reconciles toward it.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A host bug must not end supervision of this unit: report it, then reconcile again
                // from wherever the unit stands (backing off while the fault repeats).
                faults++;
                await ReportFaultAsync(ex, faults).ConfigureAwait(false);
            }
        }
    }

    private async Task ReportFaultAsync(Exception fault, int faults)
    {
        var retry = TimeSpan.FromMilliseconds(Math.Min(30_000, 500 * Math.Pow(2, Math.Min(faults - 1, 6))));
        var error = new UnitError("HOST_ERROR", $"The host failed while supervising {Name}: {fault.GetType().Name}: {fault.Message}",
            $"Report this host bug with the host's log. The host carries on supervising {Name} (next attempt in {PluginHost.Contracts.Specs.Duration.Format(retry)}); stop or restart it if it misbehaves.");
        _lastError = error;
        LogLoopFailed(Name, fault.ToString());
        try
        {
            _events.Publish("unit_supervision_fault", new JsonObject
            {
                ["code"] = error.Code,
                ["message"] = error.Message,
                ["remedy"] = error.Remedy,
                ["state"] = Lifecycle.Name(State),
                ["faults"] = faults,
            });
            await Task.Delay(retry, _services.Time, _shutdown.Token).ConfigureAwait(false);
            await RepairAsync(error).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // the unit is going away
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLoopFailed(Name, "while recovering: " + ex);
        }

        _wake.Release();
    }

    /// <summary>
    /// After a fault, leaves the unit where the loop can go on from: a unit meant to run but caught
    /// between states with no live process waits in backoff; what its last process left is stopped first.
    /// </summary>
    private async Task RepairAsync(UnitError error)
    {
        if (!WantsRunning() || State is not (UnitState.Starting or UnitState.Ready or UnitState.Stopping))
        {
            return; // a stop, or a rest state: the loop's own paths handle these
        }

        if (_child is { } child)
        {
            if (!child.Exited.IsCompleted && State != UnitState.Stopping)
            {
                return; // the process still runs and the loop still knows it: watching (or starting) resumes
            }

            await StopChildAsync().ConfigureAwait(false);
        }

        lock (_gate)
        {
            _nextStartAt = _services.Time.GetUtcNow();
        }

        Move(UnitState.Backoff, "recovering from a host fault; starting again", error);
    }

    /// <summary>Drives the unit toward what was asked until it rests (stopped, failed, or ready and watched).</summary>
    private async Task ReconcileAsync(CancellationToken phase)
    {
        while (true)
        {
            bool wantRunning, restart, forgetFailures;
            string request;
            lock (_gate)
            {
                _requestsSeen = _requests;
                forgetFailures = _forgetFailures;
                _forgetFailures = false;
                request = _request;
                wantRunning = _wantRunning;
                restart = _restartRequested; // cleared once the restart is under way: until then the ready process is the old one
            }

            if (forgetFailures)
            {
                _planner.Reset();
            }

            if (!wantRunning)
            {
                await StopAsync(request).ConfigureAwait(false);
                return;
            }

            if (restart)
            {
                var running = _child is not null;
                if (running)
                {
                    Move(UnitState.Restarting, request);
                }

                lock (_gate)
                {
                    _restartRequested = false;
                }

                if (running)
                {
                    await StopChildAsync().ConfigureAwait(false);
                }
            }

            switch (State)
            {
                case UnitState.Ready when _child is not null:
                    await WatchReadyAsync(_child, phase).ConfigureAwait(false);
                    break;
                case UnitState.Backoff:
                    var wait = _nextStartAt - _services.Time.GetUtcNow();
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _services.Time, phase).ConfigureAwait(false);
                    }

                    await StartOnceAsync("backoff elapsed", phase).ConfigureAwait(false);
                    break;
                default:
                    await StartOnceAsync(request, phase).ConfigureAwait(false);
                    break;
            }

            if (State is UnitState.Stopped or UnitState.Failed && !WantsRunning())
            {
                return;
            }
        }
    }

    private bool WantsRunning()
    {
        lock (_gate)
        {
            return _wantRunning;
        }
    }

    private async Task StopAsync(string reason)
    {
        if (_child is not null)
        {
            Move(UnitState.Stopping, reason);
            await StopChildAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _giveUp, null) is { } giveUp && State is not (UnitState.Stopped or UnitState.Idle))
        {
            // The driver's own limit: failed with its error, as the intensity limit would leave it.
            _lastError = giveUp;
            Move(UnitState.Failed, $"gave up: {giveUp.Message}", giveUp);
            _events.Publish("unit_gave_up", new JsonObject { ["code"] = giveUp.Code, ["message"] = giveUp.Message, ["remedy"] = giveUp.Remedy });
        }
        else if (State is not (UnitState.Stopped or UnitState.Idle or UnitState.Failed))
        {
            Move(UnitState.Stopped, reason);
        }
    }

    private async Task StartOnceAsync(string reason, CancellationToken phase)
    {
        if (_child is not null)
        {
            // A start interrupted by a newer request (stop, then start again) left its process: it goes
            // first, or the new one would orphan it.
            await StopChildAsync().ConfigureAwait(false);
        }

        Move(UnitState.Starting, reason);
        RunningChild child;
        try
        {
            foreach (var dependency in Manifest.After)
            {
                lock (_gate)
                {
                    _reason = $"waiting for {dependency} to be ready";
                }

                await _waitForReady(dependency, phase).ConfigureAwait(false);
            }

            child = await LaunchAsync(phase).ConfigureAwait(false);
        }
        catch (UnitErrorException ex)
        {
            // A preflight failure (python or a model missing, a directory unreadable) is a configuration
            // problem that retrying does not fix: the unit fails at once, with the driver's code and remedy.
            _services.Ports.Release(Name);
            _context.Ports = new Dictionary<string, int>();
            _lastError = ex.Error;
            bool optional;
            lock (_gate)
            {
                _wantRunning = false;
                optional = _optionalStart;
                _optionalStart = false;
            }

            if (optional)
            {
                // autostart: optional — a machine without what the unit needs is not a failure of the unit.
                Move(UnitState.Stopped, $"not started with the host (autostart: optional): {ex.Error.Message}", ex.Error);
                return;
            }

            Move(UnitState.Failed, $"preflight failed: {ex.Error.Message}", ex.Error);
            return;
        }
        catch (PortUnavailableException ex)
        {
            await EndedAsync(null, new UnitFailure(FailureKind.PortUnavailable, ex.Message + NamePortHolders(null)), null).ConfigureAwait(false);
            return;
        }
        catch (SpawnException ex)
        {
            await EndedAsync(null, new UnitFailure(FailureKind.SpawnFailed, ex.Message), null).ConfigureAwait(false);
            return;
        }

        lock (_gate)
        {
            _optionalStart = false; // past preflight: from here it is supervised like any unit
        }

        var readiness = await WaitForReadinessAsync(child, phase).ConfigureAwait(false);
        if (readiness is null)
        {
            Move(UnitState.Ready, Manifest.Health.Readiness is null ? "process started" : "readiness probe passed");
            return;
        }

        await EndedAsync(child, readiness, null).ConfigureAwait(false);
    }

    // A spawn blocks its thread until the child has exec'd (posix_spawn is a vfork). 1,000 units
    // starting at once blocked every thread-pool thread in spawns, and the API stopped answering
    // (a status request over 30 s at 3,000 units) while the pool slowly added threads. So at most
    // one spawn per core runs; the other units wait for a slot without holding a thread.
    private static readonly SemaphoreSlim SpawnSlots = new(Environment.ProcessorCount);

    private async Task<RunningChild> LaunchAsync(CancellationToken phase)
    {
        _context.Ports = _services.Ports.Allocate(Name, Manifest.Ports);
        if (Manifest.Ports.Any(r => r.Preferred > 0 && _context.Ports[r.Name] != r.Preferred))
        {
            NamePortHolders(_context.Ports); // started on another port: who holds the one it wanted
        }
        LaunchPlan plan;
        try
        {
            plan = await Driver.PrepareAsync(_context, phase).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (UnitErrorException or OperationCanceledException or OutOfMemoryException))
        {
            // A plugin bug, not the unit's: fail with a code that says whose, like a preflight failure.
            throw new UnitErrorException(new UnitError("PLUGIN_FAILED", $"The plugin's PrepareAsync failed: {ex.GetType().Name}: {ex.Message}",
                $"Report it to the authors of the plugin that provides kind {Kind}; start the unit again once it is fixed."));
        }

        var request = Placeholders.Resolve(plan, _context);
        CopyOutput(plan.StandardOutPath, plan.StandardErrorPath);
        _lastExit = null; // a previous process's exit is old news once a new one runs
        RunningChild child;
        await SpawnSlots.WaitAsync(phase).ConfigureAwait(false);
        try
        {
            child = ChildLauncher.Spawn(plan, request, plan.Stop ?? Manifest.Stop, Log, _services.Time);
        }
        finally
        {
            SpawnSlots.Release();
        }

        child = child with { OutputEvents = OutputEvents.Attach(plan.OutputEventKind, plan.OutputEventsPerSecond, Log, _context.Events, _services.Time) };
        var now = child.Process.StartedAt;
        lock (_gate)
        {
            _child = child;
            _startedAt = now;
        }

        _context.Process = child.Process;
        _context.Terminal = child.Terminal;
        _planner.OnStarted(now);
        var record = new ProcessRecord(Name, child.Pid, child.Session, child.Process.StartTimeTicks,
            child.Holder.Pid, child.Holder.StartTimeTicks, now, _context.Ports, Manifest.Fingerprint, plan.OutputEventKind, plan.OutputEventsPerSecond,
            plan.StandardOutPath, plan.StandardErrorPath);
        _services.Journal?.RecordProcess(record);
        _ = WatchHolderAsync(child, record);
        return child;
    }

    /// <returns>Null when ready; otherwise the failure that ended the start.</returns>
    private async Task<UnitFailure?> WaitForReadinessAsync(RunningChild child, CancellationToken phase)
    {
        var health = Manifest.Health;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(phase);
        var deadline = Task.Delay(health.StartTimeout, _services.Time, timeout.Token);
        var ready = _readiness.WaitAsync(health.Readiness, timeout.Token);
        var first = await Task.WhenAny(ready, child.Exited, deadline).ConfigureAwait(false);
        await timeout.CancelAsync().ConfigureAwait(false);
        phase.ThrowIfCancellationRequested();
        if (first == ready && await ready.ConfigureAwait(false))
        {
            return null;
        }

        if (child.Exited.IsCompleted)
        {
            var status = await child.Exited.ConfigureAwait(false);
            return new UnitFailure(FailureKind.ExitedDuringStart, status.ToString(), status.Code, status.Signal);
        }

        await StopChildAsync().ConfigureAwait(false);
        return new UnitFailure(FailureKind.ReadinessTimeout, $"not ready within {PluginHost.Contracts.Specs.Duration.Format(health.StartTimeout)}");
    }

    /// <summary>A ready unit: waits for its exit, or for its liveness probe to fail too often.</summary>
    private async Task WatchReadyAsync(RunningChild child, CancellationToken phase)
    {
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(phase);
        var liveness = _liveness.WatchAsync(Manifest.Health.Liveness, watch.Token);
        var cancelled = Task.Delay(Timeout.InfiniteTimeSpan, _services.Time, phase);
        var first = await Task.WhenAny(child.Exited, liveness, cancelled).ConfigureAwait(false);
        await watch.CancelAsync().ConfigureAwait(false);
        phase.ThrowIfCancellationRequested();
        if (first == child.Exited)
        {
            var status = await child.Exited.ConfigureAwait(false);
            var failure = new UnitFailure(FailureKind.Crashed, status.ToString(), status.Code, status.Signal);
            Move(UnitState.Stopping, $"exited ({status}); stopping what is left of its process group");
            await EndedAsync(child, failure, null, failed: !status.Succeeded).ConfigureAwait(false);
            return;
        }

        var detail = await liveness.ConfigureAwait(false);
        Move(UnitState.Stopping, $"liveness probe failed ({detail}); stopping it");
        await StopChildAsync().ConfigureAwait(false);
        await EndedAsync(null, new UnitFailure(FailureKind.LivenessFailed, detail), null).ConfigureAwait(false);
    }

    /// <summary>The unit's process ended (or never started): clean up, classify, and decide what comes next.</summary>
    private async Task EndedAsync(RunningChild? child, UnitFailure failure, UnitError? error, bool failed = true)
    {
        if (child is not null)
        {
            // Whatever the main process left behind goes before anything else can start.
            await StopChildAsync().ConfigureAwait(false);
        }

        var now = _services.Time.GetUtcNow();
        var uptime = _startedAt is { } started ? now - started : TimeSpan.Zero;
        if (failed)
        {
            error ??= Classify(failure with { RecentOutput = Log.Tail(20) });
            _lastError = error;
        }

        // A kind with its own KeepAlive decides whether the unit runs again (the throttle and limit still hold).
        var exit = new UnitExit(failure.ExitCode, failure.Signal);
        var verdict = AskKeepAlive(exit);
        var decision = _planner.OnEnded(now, failed, uptime, verdict?.Run);
        switch (decision.Action)
        {
            case RestartAction.Restart:
                lock (_gate)
                {
                    _restarts++;
                    _nextStartAt = now + decision.Delay;
                }

                Move(UnitState.Backoff, $"{failure.Message}; {(verdict is null ? "" : verdict.Reason + "; ")}starting again in {PluginHost.Contracts.Specs.Duration.Format(RoundMs(decision.Delay))}", error);
                break;
            case RestartAction.GiveUp:
                var gaveUp = Classify(new UnitFailure(FailureKind.GaveUp, $"{decision.Reason}; last: {error?.Message ?? failure.Message}", RecentOutput: Log.Tail(20)));
                _lastError = gaveUp;
                lock (_gate)
                {
                    _wantRunning = false;
                }

                Move(UnitState.Failed, $"gave up: {decision.Reason}", gaveUp);
                _events.Publish("unit_gave_up", new JsonObject { ["code"] = gaveUp.Code, ["message"] = gaveUp.Message, ["remedy"] = gaveUp.Remedy });
                break;
            default:
                lock (_gate)
                {
                    _wantRunning = false;
                }

                var why = verdict is not null ? $"{failure.Message}; {verdict.Reason}"
                    : failed ? failure.Message : $"exited ({failure.Message}); restart policy {Manifest.Restart.Policy}";
                Move(failed ? UnitState.Failed : UnitState.Stopped, why, error);
                if (verdict is { AskAgain: true })
                {
                    WatchKeepAlive(exit, verdict.Reason, now);
                }

                break;
        }
    }

    private UnitError Classify(UnitFailure failure)
    {
        try
        {
            return Driver.Classify(failure);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogDriverFailed(Name, nameof(IUnitDriver.Classify), ex.Message);
            return UnitError.FromFailure(failure);
        }
    }

    /// <summary>Stops the current process and everything in its session: driver hook, stop signal, grace, SIGKILL.</summary>
    private async Task StopChildAsync()
    {
        var child = _child;
        if (child is null)
        {
            return;
        }

        var driver = Driver;
        var (status, graceful) = await ChildStopper.StopAsync(child, token => driver.StopAsync(_context, token),
            why => LogDriverFailed(Name, nameof(IUnitDriver.StopAsync), why), _services.Time).ConfigureAwait(false);
        _lastExit = status; // told to the driver with the transition that follows (stopped, backoff, failed)
        _context.Terminal = null;
        _services.Journal?.ForgetProcess(Name);
        lock (_gate)
        {
            _child = null;
        }

        _context.Process = null;
        _context.Ports = new Dictionary<string, int>();
        _services.Ports.Release(Name);
        StateChanged?.Invoke();
        _events.Publish("unit_exited", new JsonObject
        {
            ["pid"] = child.Pid,
            ["code"] = status.Code,
            ["signal"] = status.Signal,
            ["forced"] = !graceful,
        });
    }

    /// <summary>Opens the plan's output copies before the process writes anything; a file that cannot be opened fails the start.</summary>
    private void CopyOutput(string? stdoutPath, string? stderrPath)
    {
        try
        {
            Log.CopyOutputTo(stdoutPath, stderrPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UnitErrorException(new UnitError("OUTPUT_PATH_UNWRITABLE", $"The output file {stdoutPath ?? stderrPath} cannot be opened: {ex.Message}",
                "Make its folder writable by the host (or fix the path in the manifest), then start the unit again."));
        }
    }

    private static TimeSpan RoundMs(TimeSpan t) => TimeSpan.FromMilliseconds(Math.Round(t.TotalMilliseconds));
}
