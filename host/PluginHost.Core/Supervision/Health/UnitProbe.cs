using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision.Health;

/// <summary>
/// One probe attempt of a unit: the kind's own probe (its plugin) first, the manifest's when the
/// kind has none. Remembers the latest answer for /metrics.
/// </summary>
internal sealed class UnitProbe(
    Func<ProbeKind, CancellationToken, ValueTask<ProbeResult>> kindProbe,
    Func<IReadOnlyDictionary<string, int>> ports,
    ProbeRunner manifestProbes,
    TimeProvider time)
{
    /// <summary>The latest probe that ran, null before any.</summary>
    public ProbeObservation? Last { get; private set; }

    public async Task<ProbeResult> RunAsync(ProbeKind kind, ProbeDefinition? probe, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var result = await RunCoreAsync(kind, probe, cancellationToken).ConfigureAwait(false);
        if (result.Status != ProbeStatus.Unsupported)
        {
            Last = new ProbeObservation(kind, result.Status == ProbeStatus.Healthy, time.GetElapsedTime(started));
        }

        return result;
    }

    private async Task<ProbeResult> RunCoreAsync(ProbeKind kind, ProbeDefinition? probe, CancellationToken cancellationToken)
    {
        ProbeResult result;
        try
        {
            result = await kindProbe(kind, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            result = ProbeResult.Unhealthy($"the plugin's probe failed: {ex.Message}");
        }

        if (result.Status != ProbeStatus.Unsupported || probe is null)
        {
            return result;
        }

        return await manifestProbes.RunAsync(probe, ports(), cancellationToken).ConfigureAwait(false);
    }
}
