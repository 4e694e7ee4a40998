using System.Runtime.InteropServices;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Terminals;

/// <summary>
/// The host's side of a unit's pseudo-terminal: it owns the master, so the session outlives any
/// plugin reload. One thread reads the master until EIO (every slave descriptor closed) and hands
/// each chunk, under one lock, to the scrollback ring and to every attached viewer, and queues it
/// for the unit's log, which a task of its own cuts into lines and writes. Lossless with bounded
/// memory: while any viewer's queue (or the log's) is full the reader waits, so the program blocks
/// in write(2) instead of output being dropped; a viewer that takes nothing for
/// <see cref="StallLimit"/> is detached so one frozen client cannot hold a session forever.
/// Memory per session ≤ scrollback + 64 KB read buffer + 64 KB partial line + the log's queue
/// (<see cref="LogQueueChunks"/> chunks) + Σ viewers (capacity + one chunk).
/// </summary>
/// <remarks>
/// The reader does as little as it can between two reads: a terminal hands over at most a few KiB
/// per read and the program's writes wait meanwhile, so the log's line cutting and its write(2)
/// after every read (≈ 30 µs a read on the reader) held a 10 MB burst to ≈ 40 MB/s where a bare
/// reader gets ≈ 60.
/// </remarks>
internal sealed class PtyTerminal : IUnitTerminal, IDisposable
{
    public const int ReadBufferBytes = 64 * 1024;
    public const int MaxLineBytes = 64 * 1024;
    public const int DefaultViewerCapacity = 256 * 1024;

    /// <summary>Chunks read and not yet in the log, at most: the reader waits beyond.</summary>
    public const int LogQueueChunks = 64;

    private readonly int _master;
    private readonly ByteRing _scrollback;
    private readonly UnitLog _log;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly List<TerminalViewer> _viewers = [];
    private readonly SemaphoreSlim _room = new(0);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // The log's current line, as bytes: a character split between two reads is whole once its line is.
    private readonly MemoryStream _line = new();
    private readonly System.Threading.Channels.Channel<byte[]> _toLog = System.Threading.Channels.Channel.CreateBounded<byte[]>(
        new System.Threading.Channels.BoundedChannelOptions(LogQueueChunks) { SingleReader = true, SingleWriter = true });
    private readonly Task _logged;
    private long _bytesRead;
    private int _disposed;

    public PtyTerminal(SpawnedTerminal spawned, TerminalSize size, int scrollbackBytes, UnitLog log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(spawned);
        _master = spawned.MasterFd;
        SlavePath = spawned.SlavePath;
        Size = size;
        _scrollback = new ByteRing(Math.Max(4096, scrollbackBytes));
        _log = log;
        _time = time;
        _logged = Task.Run(LogAsync);
        var reader = new Thread(Pump) { IsBackground = true, Name = "pty " + spawned.SlavePath };
        reader.Start();
    }

    /// <summary>How long a full viewer may take nothing before it is detached.</summary>
    public TimeSpan StallLimit { get; set; } = TimeSpan.FromSeconds(30);

    public string SlavePath { get; }

    public TerminalSize Size { get; private set; }

    /// <summary>Completes when the master reports EIO: every process holding the slave is gone and the output is all read.</summary>
    public Task Completed => _completed.Task;

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Output held in memory for viewers right now (for the memory bound).</summary>
    public long Buffered
    {
        get
        {
            lock (_gate)
            {
                return _viewers.Sum(v => v.Queued);
            }
        }
    }

    /// <summary>Starts a viewer: the scrollback so far, then every byte that follows, in order.</summary>
    public TerminalViewer Attach(int capacity = DefaultViewerCapacity)
    {
        lock (_gate)
        {
            var viewer = new TerminalViewer(Math.Max(1024, capacity), _scrollback.ToArray(), Detach, () => _room.Release(), _time);
            if (_completed.Task.IsCompleted)
            {
                viewer.End("the session has ended");
            }
            else
            {
                _viewers.Add(viewer);
            }

            return viewer;
        }
    }

    /// <summary>How long typed input may wait for a program that does not read it before the write fails.</summary>
    public TimeSpan InputTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a write that waits for room in the terminal's input queue looks again (on the terminal's clock).</summary>
    private static readonly TimeSpan InputPoll = TimeSpan.FromMilliseconds(10);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        // One writer at a time keeps input in order. The terminal's input queue is small (4 KB): write
        // in pieces, each once the queue has room, so a program that stops reading its input fails the
        // write after InputTimeout instead of holding the caller (an API request) for ever. Waiting is
        // asynchronous and on the injected clock: no thread is blocked, no lock is held in poll(2).
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var left = input;
            var waitingSince = _time.GetTimestamp();
            while (!left.IsEmpty)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var written = TryWrite(left.Span);
                if (written > 0)
                {
                    left = left[written..];
                    waitingSince = _time.GetTimestamp();
                    continue;
                }

                if (_time.GetElapsedTime(waitingSince) >= InputTimeout)
                {
                    throw new IOException($"the program has not read its input for {InputTimeout.TotalMilliseconds:0} ms; {left.Length} bytes were not written");
                }

                await Task.Delay(InputPoll, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <returns>Bytes written; 0 when the terminal's input queue has no room now.</returns>
    /// <exception cref="IOException">The write failed (the terminal is gone).</exception>
    private unsafe int TryWrite(ReadOnlySpan<byte> bytes)
    {
        var ready = new LibC.PollFd { Fd = _master, Events = LibC.POLLOUT };
        if (LibC.poll(&ready, 1, 0) == 0)
        {
            return 0;
        }

        while (true)
        {
            fixed (byte* p = bytes)
            {
                var n = LibC.write(_master, p, Math.Min(bytes.Length, 1024));
                if (n >= 0)
                {
                    return (int)n;
                }
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR)
            {
                continue;
            }

            return errno == LibC.EAGAIN ? 0 : throw new IOException($"writing to the terminal failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    public unsafe ValueTask ResizeAsync(TerminalSize size, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(size);
        var winsize = new LibC.WinSize { Columns = (ushort)size.Columns, Rows = (ushort)size.Rows };
        if (LibC.ioctl(_master, LibC.TIOCSWINSZ, &winsize) != 0)
        {
            throw new IOException("resizing the terminal failed: " + Marshal.GetLastPInvokeErrorMessage());
        }

        Size = size; // the kernel sends SIGWINCH to the terminal's foreground process group
        return ValueTask.CompletedTask;
    }

    public ReadOnlyMemory<byte> Scrollback()
    {
        lock (_gate)
        {
            return _scrollback.ToArray();
        }
    }

    private void Detach(TerminalViewer viewer)
    {
        lock (_gate)
        {
            _viewers.Remove(viewer);
        }

        _room.Release();
    }

    private unsafe void Pump()
    {
        var buffer = new byte[ReadBufferBytes];
        try
        {
            while (true)
            {
                WaitForRoom();
                nint n;
                fixed (byte* p = buffer)
                {
                    n = LibC.read(_master, p, buffer.Length);
                }

                if (n < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
                {
                    continue;
                }

                if (n <= 0)
                {
                    break; // EIO: no process holds the slave any more
                }

                var chunk = buffer.AsSpan(0, (int)n).ToArray();
                Interlocked.Add(ref _bytesRead, n);
                lock (_gate)
                {
                    _scrollback.Append(chunk);
                    foreach (var viewer in _viewers)
                    {
                        viewer.Offer(chunk);
                    }
                }

                if (!_toLog.Writer.TryWrite(chunk))
                {
                    _toLog.Writer.WriteAsync(chunk).AsTask().GetAwaiter().GetResult(); // the log is behind: wait for it (this thread is the terminal's own)
                }
            }
        }
        finally
        {
            _toLog.Writer.TryComplete();
            _logged.GetAwaiter().GetResult(); // the log holds every line before the session is said to be over
            lock (_gate)
            {
                foreach (var viewer in _viewers)
                {
                    viewer.End("the session has ended");
                }

                _viewers.Clear();
            }

            _completed.TrySetResult();
        }
    }

    /// <summary>Back-pressure: while a viewer is full, do not read (the program blocks); detach viewers that stalled.</summary>
    private void WaitForRoom()
    {
        while (true)
        {
            TerminalViewer[] full;
            lock (_gate)
            {
                full = _viewers.Exists(v => v.Full) ? [.. _viewers.Where(v => v.Full)] : [];
            }

            if (full.Length == 0 || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            foreach (var stalled in full.Where(v => _time.GetElapsedTime(v.LastRead) > StallLimit))
            {
                stalled.End($"detached: took no output for {StallLimit.TotalSeconds:0} s while its buffer was full");
                Detach(stalled);
            }

            _room.Wait(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>The log's side: every chunk cut into lines; the file written whenever the queue is empty, and at the end.</summary>
    private async Task LogAsync()
    {
        var reader = _toLog.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var chunk))
                {
                    ToLog(chunk, flush: false);
                }

                _log.Flush();
            }

            ToLog([], flush: true);
        }
        catch (ObjectDisposedException)
        {
            // The unit's log went with the unit: what is left goes to the viewers only (taken here, so the reader never waits on it).
            await foreach (var _ in reader.ReadAllAsync().ConfigureAwait(false))
            {
            }
        }
    }

    /// <summary>
    /// Cuts the terminal's bytes into lines for the log, as the pump does a pipe's: newlines found with
    /// a vectorized search, no string made per line (a character loop into a StringBuilder was the
    /// slowest step between the pty and a WebSocket viewer).
    /// </summary>
    /// <param name="flush">The end: the last, unterminated line goes too, and the file is written.</param>
    private void ToLog(byte[] chunk, bool flush)
    {
        var now = _time.GetUtcNow();
        ReadOnlySpan<byte> rest = chunk;
        while (rest.IndexOf((byte)'\n') is var newline and >= 0)
        {
            AddToLine(rest[..newline], now);
            EmitLine(now);
            rest = rest[(newline + 1)..];
        }

        AddToLine(rest, now);
        if (flush)
        {
            if (_line.Length > 0)
            {
                EmitLine(now);
            }

            _log.Flush();
        }
    }

    /// <summary>Appends text to the current line: carriage returns dropped wherever they are (ONLCR's, a progress bar's), a line cut at <see cref="MaxLineBytes"/>.</summary>
    private void AddToLine(ReadOnlySpan<byte> text, DateTimeOffset now)
    {
        while (!text.IsEmpty)
        {
            var cr = text.IndexOf((byte)'\r'); // never inside a multi-byte character
            _line.Write(cr < 0 ? text : text[..cr]);
            text = cr < 0 ? [] : text[(cr + 1)..];
        }

        // Cut only with a byte beyond the limit at hand: it tells whether a character starts there,
        // and a character that has begun ends in the next line, never split (its rest may come in the next read).
        while (_line.Length > MaxLineBytes)
        {
            var line = _line.GetBuffer().AsSpan(0, (int)_line.Length);
            var cut = Utf8Cut.AtOrBefore(line, MaxLineBytes);
            var rest = line[(cut == 0 ? MaxLineBytes : cut)..].ToArray(); // no character starts anywhere (garbage): cut anyway
            _line.SetLength(line.Length - rest.Length);
            EmitLine(now);
            _line.Write(rest);
        }
    }

    private void EmitLine(DateTimeOffset now)
    {
        _log.Append(OutputStream.Terminal, _line.GetBuffer().AsSpan(0, (int)_line.Length), now);
        _line.SetLength(0);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _room.Release();
            LibC.close(_master);
        }
    }
}
