using System.Diagnostics;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// Waits for a condition with a deadline, never with a fixed sleep. A probe that throws (the host
/// not answering yet, a 500, a JSON shape that changed) counts as "not yet", and the last such
/// failure is in the message when the deadline passes — a wait must never turn an error into a
/// silent 30 s timeout. A failed assertion inside the probe ends the wait at once.
/// </summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<T?> probe, TimeSpan deadline, string what)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        var started = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException and not OutOfMemoryException)
            {
                last = ex is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerException! : ex;
            }

            if (started.Elapsed > deadline)
            {
                throw new TimeoutException($"waited {deadline.TotalSeconds:F0} s for {what}"
                    + (last is null ? "" : $"; the last attempt failed with {last.GetType().Name}: {last.Message}"), last);
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    public static async Task TrueAsync(Func<bool> condition, TimeSpan deadline, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await WaitAsync(() => condition() ? "yes" : null, deadline, what).ConfigureAwait(false);
    }
}
