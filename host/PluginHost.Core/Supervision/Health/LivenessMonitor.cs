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

    /// <returns>Why the unit is declared dead, once the threshold is reached; never completes while it is healthy.</returns>
    public async Task<string> WatchAsync(ProbeDefinition? definition, CancellationToken cancellationToken)
    {
        var interval = definition?.Interval ?? DefaultInterval;
        var policy = new ConsecutiveFailures(definition?.FailureThreshold ?? DefaultThreshold);
        while (true)
        {
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            var result = await probe.RunAsync(ProbeKind.Liveness, definition, cancellationToken).ConfigureAwait(false);
            if (policy.Record(result.Status))
            {
                return $"{policy.Count} consecutive failures: {result.Detail}";
            }
        }
    }
}
