using Microsoft.AspNetCore.Http;

namespace PluginHost.Api;

/// <summary>A result that writes the response itself (server-sent events), for as long as the client stays.</summary>
internal sealed class StreamResult(Func<Task> serve) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext) => serve();
}

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
