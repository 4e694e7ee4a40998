using PluginHost.Core.Processes;
using PluginHost.Core.Supervision.Launch;

namespace PluginHost.Core.Supervision.Stopping;

/// <summary>
/// Stops one running process and everything of its family: the plugin's stop hook (bounded by the
/// grace whether or not it honours its token), the stop signal to the whole family, SIGKILL after
/// the grace; then its output is drained and its terminal, output events and holder are let go.
/// </summary>
internal static class ChildStopper
{
    /// <summary>
    /// Every known writer is gone once the family is, so the pipes end at once; only a process the
    /// family lost track of (see <see cref="ProcessFamily"/>) could still hold them open — not worth
    /// more than this much of a stop.
    /// </summary>
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(1);

    /// <param name="hook">The plugin's stop hook; not asked when the process has already ended.</param>
    /// <param name="hookFailed">Told why the hook did not complete (it threw, or outlasted the grace).</param>
    public static async Task<StopOutcome> StopAsync(RunningChild child, Func<CancellationToken, ValueTask> hook, Action<string> hookFailed, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(child);
        if (!child.Exited.IsCompleted)
        {
            await RunHookAsync(child.Stop.Grace, hook, hookFailed, time).ConfigureAwait(false);
        }

        var graceful = await ProcessGroupStopper.StopAsync(child.Family, (int)child.Stop.Signal, child.Stop.Grace, time).ConfigureAwait(false);
        var status = await child.Exited.ConfigureAwait(false);
        await Task.WhenAny(child.OutputDrained, Task.Delay(DrainLimit, time)).ConfigureAwait(false);
        child.OutputEvents?.Dispose();
        child.Terminal?.Dispose();
        child.Holder.Release();
        return new StopOutcome(status, graceful);
    }

    private static async Task RunHookAsync(TimeSpan grace, Func<CancellationToken, ValueTask> hook, Action<string> hookFailed, TimeProvider time)
    {
        using var cancel = new CancellationTokenSource(grace, time);
        try
        {
            // A hook that hangs must not hold the stop (and with it the host's shutdown) for ever.
            await hook(cancel.Token).AsTask().WaitAsync(grace, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            hookFailed($"still running after the {PluginHost.Contracts.Specs.Duration.Format(grace)} grace; the stop signal follows");
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            hookFailed($"cancelled at the end of the {PluginHost.Contracts.Specs.Duration.Format(grace)} grace; the stop signal follows");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            hookFailed(ex.Message);
        }
    }
}

/// <summary>How a stop ended: the process's exit, and whether the stop signal sufficed (false: SIGKILL was needed).</summary>
internal sealed record StopOutcome(ExitStatus Exit, bool Graceful);
