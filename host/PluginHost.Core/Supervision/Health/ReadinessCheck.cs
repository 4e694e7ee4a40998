using System.Text.RegularExpressions;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;

namespace PluginHost.Core.Supervision.Health;

/// <summary>
/// Readiness of a starting unit: polled (the kind's probe, else the manifest's) until healthy, at
/// the probe's interval but at least every 250 ms so a start is not seen late; a log-line probe is
/// not polled: it waits for its line among the unit's captured output.
/// </summary>
internal sealed class ReadinessCheck(UnitProbe probe, UnitLog log, TimeProvider time)
{
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromMilliseconds(250);

    /// <returns>True when ready; the caller bounds the wait (start timeout, process exit).</returns>
    public async Task<bool> WaitAsync(ProbeDefinition? definition, CancellationToken cancellationToken)
    {
        if (definition is LogLineProbe logLine)
        {
            return await LogLineAsync(logLine, cancellationToken).ConfigureAwait(false);
        }

        var interval = definition?.Interval ?? TimeSpan.FromMilliseconds(200);
        var pause = interval < MaxPollInterval ? interval : MaxPollInterval;
        while (true)
        {
            var result = await probe.RunAsync(ProbeKind.Readiness, definition, cancellationToken).ConfigureAwait(false);

            // No probe anywhere (neither the kind nor the manifest has one): a started process is ready.
            if (result.Status == ProbeStatus.Healthy || (result.Status == ProbeStatus.Unsupported && definition is null))
            {
                return true;
            }

            await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> LogLineAsync(LogLineProbe definition, CancellationToken cancellationToken)
    {
        var regex = new Regex(definition.Pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
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
                // A pathological line is not the line: the next one may be.
            }
        }

        log.LineCaptured += OnLine;
        try
        {
            return await seen.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            log.LineCaptured -= OnLine;
        }
    }
}
