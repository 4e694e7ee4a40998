namespace PluginHost.Api;

/// <summary>How many long-lived connections are open (for /metrics).</summary>
internal sealed class ConnectionCount
{
    private int _current;

    public int Current => Volatile.Read(ref _current);

    public IDisposable Enter()
    {
        Interlocked.Increment(ref _current);
        return new Exit(this);
    }

    private sealed class Exit(ConnectionCount owner) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Interlocked.Decrement(ref owner._current);
            }
        }
    }
}
