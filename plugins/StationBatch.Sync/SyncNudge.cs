using System.Runtime.InteropServices;

namespace PluginHost.Station.Sync;

/// <summary>
/// "Sync now": SIGUSR1 to the process (what the unit's <c>sync</c> operation sends) ends the current
/// wait at once; several nudges during a sync make one more round, not many.
/// </summary>
internal sealed class SyncNudge : IDisposable
{
    private readonly SemaphoreSlim _nudged = new(0, 1);
    private readonly PosixSignalRegistration? _registration;

    public SyncNudge()
    {
        // SIGUSR1's number differs between Linux (10) and macOS (30); .NET takes a raw number on Unix.
        var usr1 = OperatingSystem.IsMacOS() ? 30 : 10;
        _registration = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create((PosixSignal)usr1, context =>
        {
            context.Cancel = true;
            Nudge();
        });
    }

    public void Nudge()
    {
        try
        {
            _nudged.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already nudged: one more round is coming.
        }
    }

    /// <summary>Waits for <paramref name="timeout"/> or a nudge, whichever comes first; ends quietly when stopped.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _nudged.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    public void Dispose()
    {
        _registration?.Dispose();
        _nudged.Dispose();
    }
}
