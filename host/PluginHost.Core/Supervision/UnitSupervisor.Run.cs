using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Processes;
using PluginHost.Core.Storage;

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
            await EndedAsync(null, new UnitFailure(FailureKind.PortUnavailable, ex.Message), null).ConfigureAwait(false);
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

    private async Task<RunningChild> LaunchAsync(CancellationToken phase)
    {
        _context.Ports = _services.Ports.Allocate(Name, Manifest.Ports);
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
        _lastExit = null; // a previous process's exit is old news once a new one runs
        var child = plan.Io == LaunchIo.Pty ? SpawnTerminal(plan, request) : SpawnWithPipes(plan, request);
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
            child.Holder.Pid, child.Holder.StartTimeTicks, now, _context.Ports, Manifest.Fingerprint, plan.OutputEventKind, plan.OutputEventsPerSecond);
        _services.Journal?.RecordProcess(record);
        _ = WatchHolderAsync(child, record);
        return child;
    }

    /// <summary>stdout and stderr on pipes, read per line; an output holder keeps them open across a host crash.</summary>
    private RunningChild SpawnWithPipes(LaunchPlan plan, SpawnRequest request)
    {
        var spawned = ProcessSpawner.Spawn(request);
        var process = new RunningProcess(spawned.Pid, spawned.Pid, spawned.StartTimeTicks, _services.Time.GetUtcNow(), plan.Io);
        var drained = Task.WhenAll(
            OutputPump.PumpAsync(spawned.Stdout, OutputStream.Stdout, Log, _services.Time),
            OutputPump.PumpAsync(spawned.Stderr, OutputStream.Stderr, Log, _services.Time));
        return new RunningChild(process, plan.Stop ?? Manifest.Stop, ExitWatch.WhenExited(spawned.Pid, isChild: true), drained,
            new OutputHolderWatch(spawned.HolderPid, spawned.HolderStartTimeTicks, isChild: true, spawned.Stdout, spawned.Stderr));
    }

    /// <summary>A pseudo-terminal the host owns: the program's controlling terminal; its output read from the master.</summary>
    private RunningChild SpawnTerminal(LaunchPlan plan, SpawnRequest request)
    {
        var spawned = ProcessSpawner.SpawnPty(request, plan.TerminalSize.Columns, plan.TerminalSize.Rows);
        var process = new RunningProcess(spawned.Pid, spawned.Pid, spawned.StartTimeTicks, _services.Time.GetUtcNow(), plan.Io);
        var terminal = new Terminals.PtyTerminal(spawned, plan.TerminalSize, plan.ScrollbackBytes, Log, _services.Time);
        return new RunningChild(process, plan.Stop ?? Manifest.Stop, ExitWatch.WhenExited(spawned.Pid, isChild: true), terminal.Completed,
            OutputHolderWatch.None)
        {
            Terminal = terminal,
        };
    }

    /// <returns>Null when ready; otherwise the failure that ended the start.</returns>
    private async Task<UnitFailure?> WaitForReadinessAsync(RunningChild child, CancellationToken phase)
    {
        var health = Manifest.Health;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(phase);
        var deadline = Task.Delay(health.StartTimeout, _services.Time, timeout.Token);
        var ready = ReadinessAsync(health.Readiness, timeout.Token);
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

    /// <summary>Polls readiness (driver probe, else the manifest's) until healthy; true when ready.</summary>
    private async Task<bool> ReadinessAsync(ProbeDefinition? probe, CancellationToken cancellationToken)
    {
        if (probe is LogLineProbe logLine)
        {
            return await LogLineAsync(logLine, cancellationToken).ConfigureAwait(false);
        }

        var interval = probe?.Interval ?? TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var result = await ProbeOnceAsync(ProbeKind.Readiness, probe, cancellationToken).ConfigureAwait(false);
            if (result.Status == ProbeStatus.Healthy || (result.Status == ProbeStatus.Unsupported && probe is null))
            {
                return true;
            }

            await Task.Delay(Min(interval, TimeSpan.FromMilliseconds(250)), _services.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> LogLineAsync(LogLineProbe probe, CancellationToken cancellationToken)
    {
        var regex = new Regex(probe.Pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
        var seen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(OutputLine line)
        {
            try
            {
                if (regex.IsMatch(line.Text))
                {
                    seen.TrySetResult(true);
                }
            }
            catch (RegexMatchTimeoutException)
            {
            }
        }

        Log.LineCaptured += OnLine;
        try
        {
            return await seen.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Log.LineCaptured -= OnLine;
        }
    }

    private async Task<ProbeResult> ProbeOnceAsync(ProbeKind kind, ProbeDefinition? probe, CancellationToken cancellationToken)
    {
        var started = _services.Time.GetTimestamp();
        var result = await ProbeCoreAsync(kind, probe, cancellationToken).ConfigureAwait(false);
        if (result.Status != ProbeStatus.Unsupported)
        {
            LastProbe = new ProbeObservation(kind, result.Status == ProbeStatus.Healthy, _services.Time.GetElapsedTime(started));
        }

        return result;
    }

    private async Task<ProbeResult> ProbeCoreAsync(ProbeKind kind, ProbeDefinition? probe, CancellationToken cancellationToken)
    {
        ProbeResult result;
        try
        {
            result = await Driver.ProbeAsync(_context, kind, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            result = ProbeResult.Unhealthy($"the plugin's probe failed: {ex.Message}");
        }

        if (result.Status != ProbeStatus.Unsupported || probe is null)
        {
            return result;
        }

        return await _services.Probes.RunAsync(probe, _context.Ports, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A ready unit: waits for its exit, or for its liveness probe to fail too often.</summary>
    private async Task WatchReadyAsync(RunningChild child, CancellationToken phase)
    {
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(phase);
        var liveness = LivenessAsync(Manifest.Health.Liveness, watch.Token);
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
        await EndedAsync(null, new UnitFailure(FailureKind.LivenessFailed, detail ?? "liveness probe failed"), null).ConfigureAwait(false);
    }

    /// <returns>The last failure once the threshold is reached; never completes while healthy.</returns>
    private async Task<string?> LivenessAsync(ProbeDefinition? probe, CancellationToken cancellationToken)
    {
        var failures = 0;
        var interval = probe?.Interval ?? TimeSpan.FromSeconds(10);
        var threshold = probe?.FailureThreshold ?? 3;
        while (true)
        {
            await Task.Delay(interval, _services.Time, cancellationToken).ConfigureAwait(false);
            var result = await ProbeOnceAsync(ProbeKind.Liveness, probe, cancellationToken).ConfigureAwait(false);
            failures = result.Status == ProbeStatus.Unhealthy ? failures + 1 : 0;
            if (failures >= threshold)
            {
                return $"{failures} consecutive failures: {result.Detail}";
            }
        }
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

        var decision = _planner.OnEnded(now, failed, uptime);
        switch (decision.Action)
        {
            case RestartAction.Restart:
                lock (_gate)
                {
                    _restarts++;
                    _nextStartAt = now + decision.Delay;
                }

                Move(UnitState.Backoff, $"{failure.Message}; starting again in {PluginHost.Contracts.Specs.Duration.Format(RoundMs(decision.Delay))}", error);
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

                Move(failed ? UnitState.Failed : UnitState.Stopped, failed ? failure.Message : $"exited ({failure.Message}); restart policy {Manifest.Restart.Policy}", error);
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

        if (!child.Exited.IsCompleted)
        {
            using var hook = new CancellationTokenSource(child.Stop.Grace, _services.Time);
            try
            {
                // Bounded by the grace whether or not the plugin honours its token: a hook that hangs
                // must not hold the stop (and with it the host's shutdown) for ever.
                await Driver.StopAsync(_context, hook.Token).AsTask().WaitAsync(child.Stop.Grace, _services.Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                LogDriverFailed(Name, nameof(IUnitDriver.StopAsync), $"still running after the {PluginHost.Contracts.Specs.Duration.Format(child.Stop.Grace)} grace; the stop signal follows");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogDriverFailed(Name, nameof(IUnitDriver.StopAsync), ex.Message);
            }
        }

        var graceful = await ProcessGroupStopper.StopAsync(child.Family, (int)child.Stop.Signal, child.Stop.Grace, _services.Time).ConfigureAwait(false);
        var status = await child.Exited.ConfigureAwait(false);
        _lastExit = status; // told to the driver with the transition that follows (stopped, backoff, failed)

        // Every known writer is gone, so the pipes end at once; only a process the family lost track
        // of (see ProcessFamily) could still hold them open — not worth more than a second of the stop.
        await Task.WhenAny(child.OutputDrained, Task.Delay(TimeSpan.FromSeconds(1), _services.Time)).ConfigureAwait(false);
        child.OutputEvents?.Dispose();
        child.Terminal?.Dispose();
        _context.Terminal = null;
        child.Holder.Release();
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

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan RoundMs(TimeSpan t) => TimeSpan.FromMilliseconds(Math.Round(t.TotalMilliseconds));
}
