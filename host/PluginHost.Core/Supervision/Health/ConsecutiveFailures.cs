using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision.Health;

/// <summary>
/// The threshold policy of liveness: a unit is declared unhealthy after <c>threshold</c> failed
/// probes in a row; any answer that is not a failure (healthy, or a probe that does not apply)
/// starts the count again, so one slow moment never adds up with another an hour later.
/// </summary>
internal sealed class ConsecutiveFailures(int threshold)
{
    public int Count { get; private set; }

    /// <returns>True once the threshold is reached.</returns>
    public bool Record(ProbeStatus status)
    {
        Count = status == ProbeStatus.Unhealthy ? Count + 1 : 0;
        return Count >= Math.Max(1, threshold);
    }
}
