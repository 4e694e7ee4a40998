using System.Text.RegularExpressions;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision;

/// <summary>A kind's own gauges of a running unit (e.g. a GPU's memory), asked with CPU and RSS.</summary>
internal sealed partial class UnitSupervisor
{
    private static readonly TimeSpan GaugeTimeout = TimeSpan.FromSeconds(5);

    private readonly HashSet<string> _refusedGauges = new(StringComparer.Ordinal);
    private int _measuring;

    /// <summary>The latest gauges of the running process; null when it does not run or its kind has none.</summary>
    public IReadOnlyDictionary<string, double>? Gauges { get; private set; }

    /// <summary>Each accepted gauge's help text, for /metrics.</summary>
    public IReadOnlyDictionary<string, string> GaugeHelp { get; private set; } = new Dictionary<string, string>();

    /// <summary>Asks the driver for its gauges, unless it is still answering the previous question.</summary>
    public void MeasureGauges()
    {
        if (_context.Process is null)
        {
            Gauges = null;
            return;
        }

        if (Interlocked.Exchange(ref _measuring, 1) == 0)
        {
            _ = MeasureGaugesAsync();
        }
    }

    private async Task MeasureGaugesAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(GaugeTimeout);
            var gauges = await Driver.MeasureAsync(_context, timeout.Token).ConfigureAwait(false);
            Gauges = gauges.Count == 0 || _context.Process is null ? null : Accepted(gauges);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Gauges = null;
            LogDriverFailed(Name, nameof(IUnitDriver.MeasureAsync), ex.Message);
        }
        finally
        {
            Volatile.Write(ref _measuring, 0);
        }
    }

    /// <summary>The gauges whose names are valid Prometheus name parts the host does not use itself; the others are logged once.</summary>
    private Dictionary<string, double> Accepted(IReadOnlyList<UnitGauge> gauges)
    {
        var accepted = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var gauge in gauges)
        {
            if (GaugeName().IsMatch(gauge.Name) && !UnitMetricNames.Reserved.Contains(gauge.Name))
            {
                accepted[gauge.Name] = gauge.Value;
            }
            else if (_refusedGauges.Add(gauge.Name))
            {
                LogDriverFailed(Name, nameof(IUnitDriver.MeasureAsync),
                    $"gauge \"{gauge.Name}\" left out: a name is lower case letters, digits and underscores, not one of the host's own ({string.Join(", ", UnitMetricNames.Reserved)})");
            }
        }

        GaugeHelp = gauges.Where(g => accepted.ContainsKey(g.Name)).ToDictionary(g => g.Name, g => g.Help, StringComparer.Ordinal);
        return accepted;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex GaugeName();
}
