using System.Diagnostics;

namespace PluginHost.Contracts.Testing;

/// <summary>Waits for a condition with a deadline, never with a fixed sleep.</summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<T?> probe, TimeSpan deadline, string what)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        var started = Stopwatch.StartNew();
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            if (started.Elapsed > deadline)
            {
                throw new TimeoutException($"waited {deadline.TotalSeconds:F0} s for {what}");
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
