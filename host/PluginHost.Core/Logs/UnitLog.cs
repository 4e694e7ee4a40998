using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using System.Threading.Channels;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>
/// Everything captured from one unit, across its restarts: the rotating file, the in-memory tail,
/// and live followers. A follower that does not keep up loses its oldest lines (counted), never
/// slowing capture — the file and the tail still get every line.
/// </summary>
internal sealed class UnitLog : IDisposable
{
    private readonly RotatingLogFile _file;
    private readonly LineRing _tail;
    private readonly Lock _gate = new();
    private readonly List<Follower> _followers = [];
    private readonly LogSettings _settings;
    private OutputCopies? _copies;
    private long _lines;

    public UnitLog(string path, LogSettings settings, Storage.StorageComponent? health = null)
    {
        _settings = settings;
        _file = new RotatingLogFile(path, settings, health);
        _tail = new LineRing(settings.TailLines);
    }

    public string FilePath => _file.Path;

    public long LinesCaptured => Interlocked.Read(ref _lines);

    /// <summary>Captured lines the file could not take (a full disk): they reached the tail and followers only.</summary>
    public long LinesNotWritten => _file.LinesLost;

    /// <summary>Raised for every line (readiness by log pattern, plugin notifications). Handlers must be quick.</summary>
    public event Action<OutputLine>? LineCaptured;

    /// <summary>A line made as text (tests, lines the host writes itself).</summary>
    public void Append(OutputLine line)
    {
        var utf8 = Encoding.UTF8.GetBytes(line.Text);
        Append(line.Stream, utf8, line.Timestamp, line);
    }

    /// <summary>
    /// A line as a pump read it (a pipe's, a terminal's), without its terminator. Valid UTF-8
    /// (nearly always) goes to the file and the tail as it is; anything else as decoded, its bad
    /// bytes replaced (U+FFFD), so both only ever hold valid UTF-8. A string is made only while
    /// someone takes lines as they come (a follower, a readiness pattern, output events).
    /// </summary>
    public void Append(OutputStream stream, ReadOnlySpan<byte> utf8, DateTimeOffset timestamp) =>
        Append(stream, Utf8.IsValid(utf8) ? utf8 : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8)), timestamp, null);

    /// <summary>
    /// The complete lines of one read at once, (start, length) in <paramref name="chunk"/>, without
    /// their terminators: one validation, one lock for the file and one for the tail, one count,
    /// where a line at a time paid each of them per line (≈ 50,000 times for a 10 MB burst).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Append(OutputStream stream, ReadOnlySpan<byte> chunk, ReadOnlySpan<(int Start, int Length)> lines, DateTimeOffset timestamp)
    {
        if (lines.IsEmpty)
        {
            return;
        }

        if (!Utf8.IsValid(chunk[lines[0].Start..(lines[^1].Start + lines[^1].Length)]))
        {
            // Rare: each line goes its own way, its bad bytes replaced.
            foreach (var (start, length) in lines)
            {
                Append(stream, chunk.Slice(start, length), timestamp);
            }

            return;
        }

        Append(stream, chunk, lines, timestamp, made: null);
    }

    private void Append(OutputStream stream, ReadOnlySpan<byte> utf8, DateTimeOffset timestamp, OutputLine? line)
    {
        ReadOnlySpan<(int Start, int Length)> whole = [(0, utf8.Length)];
        Append(stream, utf8, whole, timestamp, line);
    }

    /// <param name="lines">Valid UTF-8, each.</param>
    /// <param name="made">The one line, already made as text (<see cref="Append(OutputLine)"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per line: see OutputPump.CutLines
    private void Append(OutputStream stream, ReadOnlySpan<byte> chunk, ReadOnlySpan<(int Start, int Length)> lines, DateTimeOffset timestamp, OutputLine? made)
    {
        Follower[] followers;
        lock (_gate)
        {
            foreach (var (start, length) in lines)
            {
                _file.Write(stream, timestamp, chunk.Slice(start, length));
                _copies?.Write(stream, timestamp, chunk.Slice(start, length));
            }

            followers = _followers.Count == 0 ? [] : [.. _followers];
        }

        _tail.Add(stream, chunk, lines, timestamp);
        Interlocked.Add(ref _lines, lines.Length);
        var captured = LineCaptured;
        if (followers.Length == 0 && captured is null)
        {
            return;
        }

        foreach (var (start, length) in lines)
        {
            var line = made ?? new OutputLine(stream, Encoding.UTF8.GetString(chunk.Slice(start, length)), timestamp);
            foreach (var follower in followers)
            {
                follower.Offer(line);
            }

            captured?.Invoke(line);
        }
    }

    /// <summary>Closes the log file if no line was written since the last call (see <see cref="RotatingLogFile.CloseIfQuiet"/>).</summary>
    public void CloseIfQuiet()
    {
        lock (_gate)
        {
            _file.CloseIfQuiet();
        }
    }

    /// <summary>Writes buffered lines to the file (after each chunk read from the process).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            _file.Flush();
            _copies?.Flush();
        }
    }

    /// <summary>
    /// From now on, also copies each line into these files (a launch plan's StandardOutPath /
    /// StandardErrorPath), replacing earlier copies; both null ends copying.
    /// </summary>
    /// <exception cref="IOException">A file cannot be opened: nothing changed.</exception>
    public void CopyOutputTo(string? stdoutPath, string? stderrPath)
    {
        lock (_gate)
        {
            if (_copies?.StdoutPath == Full(stdoutPath) && _copies?.StderrPath == Full(stderrPath))
            {
                return; // the same files as the last process's: kept open
            }
        }

        var copies = OutputCopies.Open(stdoutPath, stderrPath, _settings);
        OutputCopies? old;
        lock (_gate)
        {
            old = _copies;
            _copies = copies;
        }

        old?.Dispose();
    }

    private static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);

    public IReadOnlyList<OutputLine> Tail(int maxLines) => _tail.Last(maxLines);

    public Follower Follow(int capacity = 10_000)
    {
        var follower = new Follower(this, capacity);
        lock (_gate)
        {
            _followers.Add(follower);
        }

        return follower;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
            _copies?.Dispose();
            foreach (var follower in _followers)
            {
                follower.Complete();
            }
        }
    }

    internal sealed class Follower : IDisposable
    {
        private readonly UnitLog _log;
        private readonly Channel<OutputLine> _channel;
        private long _dropped;

        public Follower(UnitLog log, int capacity)
        {
            _log = log;
            _channel = Channel.CreateBounded<OutputLine>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ => Interlocked.Increment(ref _dropped));
        }

        public ChannelReader<OutputLine> Lines => _channel.Reader;

        public long Dropped => Interlocked.Read(ref _dropped);

        internal void Offer(OutputLine line) => _channel.Writer.TryWrite(line);

        internal void Complete() => _channel.Writer.TryComplete();

        public void Dispose()
        {
            lock (_log._gate)
            {
                _log._followers.Remove(this);
            }

            Complete();
        }
    }
}
