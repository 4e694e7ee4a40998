using System.Runtime.CompilerServices;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Proves that an unloaded context was collected: a bounded number of full GC cycles, then either
/// the weak reference is dead (unloaded) or something still roots the plugin (a leak to report).
/// </summary>
internal static class UnloadVerifier
{
    /// <summary>Measured: 1–2 cycles suffice for a well-behaved plugin; 10 leaves a wide margin.</summary>
    public const int MaxGcCycles = 10;

    /// <returns>The number of GC cycles it took, or null when the context is still alive after <see cref="MaxGcCycles"/>.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int? WaitForCollection(WeakReference context)
    {
        ArgumentNullException.ThrowIfNull(context);
        for (var cycle = 0; cycle <= MaxGcCycles; cycle++)
        {
            if (!context.IsAlive)
            {
                return cycle;
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return context.IsAlive ? null : MaxGcCycles;
    }
}
