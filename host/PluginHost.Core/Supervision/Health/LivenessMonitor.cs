using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision.Health;

/// <summary>
/// The probe loop of a ready unit: probes at the liveness interval (10 s when the manifest sets no
/// probe, asking the kind's own) and ends when <see cref="ConsecutiveFailures"/> trips.
/// </summary>
internal sealed class LivenessMonitor(UnitProbe probe, TimeProvider time)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);
    public const int DefaultThreshold = 3;

    /// <summary>
    /// How often a unit with nothing to probe (no manifest probe, none of its kind's) is asked again:
    /// only in case a reloaded plugin brings one. Every 10 s, 1,000 such units woke the host 100 times
    /// a second for nothing.
    /// </summary>
    public static readonly TimeSpan NothingToProbeInterval = TimeSpan.FromMinutes(5);

    /// <returns>Why the unit is declared dead, once the threshold is reached; never completes while it is healthy.</returns>
    public async Task<string> WatchAsync(ProbeDefinition? definition, CancellationToken cancellationToken)
    {
        var interval = definition?.Interval ?? DefaultInterval;
        var policy = new ConsecutiveFailures(definition?.FailureThreshold ?? DefaultThreshold);
        var wait = interval;
        while (true)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            var result = await probe.RunAsync(ProbeKind.Liveness, definition, cancellationToken).ConfigureAwait(false);
            wait = result.Status == ProbeStatus.Unsupported && definition is null ? NothingToProbeInterval : interval;
            if (policy.Record(result.Status))
            {
                return $"{policy.Count} consecutive failures: {result.Detail}";
            }
        }
    }
}
