using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision;

/// <summary>
/// A kind's own KeepAlive (launchd's): asked when the unit's process ended on its own, and — when
/// its answer may change while the unit rests (a path appears, another unit is enabled) — asked
/// again on the host's clock until it says run, or an operator's request takes over.
/// </summary>
internal sealed partial class UnitSupervisor
{
    /// <summary>How often a resting unit's conditions are asked again: what an operator notices, and cheap (a stat or two).</summary>
    internal static readonly TimeSpan KeepAliveRecheck = TimeSpan.FromSeconds(1);

    // The watch of a resting unit's conditions, replaced or cancelled only under _gate; every request (Poke) cancels it.
    private CancellationTokenSource? _keepAliveWatch;

    /// <summary>
    /// For an enabled unit the host does not start with itself: the kind may still want it running now
    /// (launchd's KeepAlive without RunAtLoad), or once a condition holds.
    /// </summary>
    public void ArmKeepAlive()
    {
        var verdict = AskKeepAlive(null);
        if (verdict is { Run: true })
        {
            Start(verdict.Reason);
        }
        else if (verdict is { AskAgain: true })
        {
            WatchKeepAlive(null, verdict.Reason, _services.Time.GetUtcNow());
        }
    }

    private KeepAliveVerdict? AskKeepAlive(UnitExit? exit)
    {
        try
        {
            return Driver.KeepAlive(_context, exit);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A plugin bug here must not decide for the unit: the manifest's restart policy does.
            LogDriverFailed(Name, nameof(IUnitDriver.KeepAlive), ex.Message);
            return null;
        }
    }

    /// <param name="since">When the unit came to rest: the checks fall due at fixed times from there, however late this runs.</param>
    private void WatchKeepAlive(UnitExit? exit, string reason, DateTimeOffset since)
    {
        CancellationTokenSource watch;
        lock (_gate)
        {
            if (_requests != _requestsSeen)
            {
                return; // a request the loop has not acted on yet (a stop while the process exited) decides instead
            }

            EndKeepAliveWatch();
            watch = _keepAliveWatch = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
            _reason ??= reason; // a unit that never ran says what it waits for
        }

        _ = Task.Run(() => WatchKeepAliveAsync(exit, since, watch));
    }

    /// <summary>Called under _gate by every request: an operator's start or stop ends the watch.</summary>
    private void EndKeepAliveWatch()
    {
        _ = _keepAliveWatch?.CancelAsync();
        _keepAliveWatch = null;
    }

    private async Task WatchKeepAliveAsync(UnitExit? exit, DateTimeOffset since, CancellationTokenSource watch)
    {
        try
        {
            for (var check = since + KeepAliveRecheck; ; check += KeepAliveRecheck)
            {
                var wait = check - _services.Time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _services.Time, watch.Token).ConfigureAwait(false);
                }

                var verdict = AskKeepAlive(exit);
                if (verdict is not { Run: true } and not { AskAgain: true })
                {
                    return;
                }

                if (!verdict.Run)
                {
                    continue;
                }

                // launchd's ThrottleInterval holds here too: no sooner than the minimum interval after the last start.
                DateTimeOffset? last;
                lock (_gate)
                {
                    last = _startedAt;
                }

                var throttle = last is { } started ? started + Manifest.Restart.MinInterval - _services.Time.GetUtcNow() : TimeSpan.Zero;
                if (throttle > TimeSpan.Zero)
                {
                    await Task.Delay(throttle, _services.Time, watch.Token).ConfigureAwait(false);
                }

                lock (_gate)
                {
                    // Checked and started under one lock: a stop between the two would be undone by the start.
                    if (!watch.IsCancellationRequested && _keepAliveWatch == watch)
                    {
                        Start(verdict.Reason);
                    }
                }

                return;
            }
        }
        catch (OperationCanceledException)
        {
            // an operator's request, or the unit went away
        }
        finally
        {
            // Forgotten and disposed under the lock every request takes: a later request must not cancel a disposed watch.
            lock (_gate)
            {
                if (_keepAliveWatch == watch)
                {
                    _keepAliveWatch = null;
                }

                watch.Dispose();
            }
        }
    }
}
