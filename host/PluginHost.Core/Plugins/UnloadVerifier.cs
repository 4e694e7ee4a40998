using System.Runtime.CompilerServices;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Proves that an unloaded context was collected: full GC cycles spread over a few seconds, then
/// either the weak reference is dead (unloaded) or something still roots the plugin (a leak to report).
/// </summary>
/// <remarks>
/// The cycles are spaced, not back to back: right after a hot reload the old version can still be
/// referenced for a few hundred milliseconds by work already in flight (a unit's sample or probe that
/// started on the old driver). Ten cycles in a row finished inside that window and reported a leak
/// that a later collection would have freed — measured with 10 handed-over units: collected at the
/// second cycle once cycles were 200 ms apart, "leaked" every time when they were not.
/// </remarks>
internal static class UnloadVerifier
{
    /// <summary>
    /// Pause before each cycle after the first. The first three run back to back (a well-behaved
    /// plugin is collected by then: a collectible context takes three), then ≈ 3.9 s more, so that a
    /// leak report means a real leak.
    /// </summary>
    public static readonly IReadOnlyList<TimeSpan> Pauses =
        [.. new[] { 0, 0, 20, 50, 100, 200, 500, 1000, 2000 }.Select(ms => TimeSpan.FromMilliseconds(ms))];

    public static int MaxGcCycles => Pauses.Count + 1;

    /// <returns>The number of GC cycles it took, or null when the context is still alive after <see cref="MaxGcCycles"/>.</returns>
    public static async Task<int?> WaitForCollectionAsync(WeakReference context, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(time);
        for (var cycles = 0; ; cycles++)
        {
            if (!context.IsAlive)
            {
                return cycles;
            }

            if (cycles == MaxGcCycles)
            {
                return null;
            }

            if (cycles > 0 && Pauses[cycles - 1] > TimeSpan.Zero)
            {
                await Task.Delay(Pauses[cycles - 1], time).ConfigureAwait(false);
            }

            Collect();
        }
    }

    // Not inlined: no frame of the caller (whose locals a debug build keeps alive) is on the stack
    // while the collector decides whether the context is still reachable.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}
