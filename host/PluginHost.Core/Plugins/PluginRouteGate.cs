using PluginHost.Contracts.Web;

namespace PluginHost.Core.Plugins;

/// <summary>
/// The door to one plugin version's routes. Each request enters and leaves; when the version is
/// replaced, the door closes, the token every handler got is cancelled (a WebSocket client then
/// reconnects, to the new version), and the unload waits for the handlers still inside — plugin code
/// on the stack would keep the old version's load context alive.
/// </summary>
internal sealed class PluginRouteGate(IPluginRoutes routes)
{
    private readonly CancellationTokenSource _retiring = new();
    private readonly TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private IPluginRoutes? _routes = routes;
    private int _inside;

    /// <summary>Enters unless the version is retiring; dispose the lease to leave.</summary>
    public Lease? TryEnter()
    {
        lock (_gate)
        {
            if (_routes is null)
            {
                return null;
            }

            _inside++;
            return new Lease(this, _routes, _retiring.Token);
        }
    }

    private void Leave()
    {
        lock (_gate)
        {
            if (--_inside == 0 && _routes is null)
            {
                _empty.TrySetResult();
            }
        }
    }

    /// <summary>Closes the door, cancels the handlers inside, and waits for them to leave.</summary>
    /// <returns>False when some were still inside at the deadline.</returns>
    public async Task<bool> RetireAsync(TimeSpan deadline, TimeProvider time)
    {
        lock (_gate)
        {
            _routes = null;
            if (_inside == 0)
            {
                _empty.TrySetResult();
            }
        }

        await _retiring.CancelAsync().ConfigureAwait(false);
        try
        {
            await _empty.Task.WaitAsync(deadline, time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    internal sealed class Lease(PluginRouteGate gate, IPluginRoutes routes, CancellationToken retiring) : IDisposable
    {
        private int _left;

        public IPluginRoutes Routes { get; } = routes;

        /// <summary>Cancelled when this plugin version is being replaced.</summary>
        public CancellationToken Retiring { get; } = retiring;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                gate.Leave();
            }
        }
    }
}
