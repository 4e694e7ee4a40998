using System.Threading.Channels;

namespace PluginHost.Core.Terminals;

/// <summary>
/// One consumer of a terminal's output (a WebSocket, a test, the byte stream). Its queue holds at
/// most about <see cref="Capacity"/> bytes: while it is full the terminal stops reading the master,
/// so the program blocks on its writes instead of anything being dropped.
/// </summary>
internal sealed class TerminalViewer : IDisposable
{
    private readonly Channel<ReadOnlyMemory<byte>> _chunks = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Action<TerminalViewer> _detach;
    private readonly Action _room;
    private long _queued;

    public TerminalViewer(int capacity, ReadOnlyMemory<byte> backlog, Action<TerminalViewer> detach, Action room, TimeProvider time)
    {
        Capacity = capacity;
        Backlog = backlog;
        _detach = detach;
        _room = room;
        LastRead = time.GetTimestamp();
        Time = time;
    }

    public int Capacity { get; }

    /// <summary>The scrollback when the viewer attached; live output continues exactly after it.</summary>
    public ReadOnlyMemory<byte> Backlog { get; }

    /// <summary>Bytes queued and not read yet.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    public bool Full => Queued >= Capacity;

    /// <summary>When the viewer last took a chunk (or attached).</summary>
    public long LastRead { get; private set; }

    /// <summary>Why the stream ended early (stalled, session over), when it did.</summary>
    public string? EndReason { get; private set; }

    private TimeProvider Time { get; }

    /// <summary>The next chunk of output; null when the session ended or the viewer was detached.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken cancellationToken)
    {
        while (await _chunks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_chunks.Reader.TryRead(out var chunk))
            {
                Interlocked.Add(ref _queued, -chunk.Length);
                LastRead = Time.GetTimestamp();
                _room();
                return chunk;
            }
        }

        return null;
    }

    internal void Offer(ReadOnlyMemory<byte> chunk)
    {
        Interlocked.Add(ref _queued, chunk.Length);
        _chunks.Writer.TryWrite(chunk);
    }

    internal void End(string reason)
    {
        EndReason ??= reason;
        _chunks.Writer.TryComplete();
    }

    public void Dispose()
    {
        End("detached");
        _detach(this);
    }
}
