using System.Runtime.CompilerServices;
using System.Text;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>
/// The last N output lines of a unit, for <c>logs</c> and failure reports, kept as the UTF-8 bytes
/// the unit wrote and decoded only when read: capture copies bytes, it builds no string per line.
/// Memory is bounded in lines and in bytes, whatever the unit writes; the log file keeps everything.
/// </summary>
internal sealed class LineRing
{
    private const int FirstBytes = 4 * 1024;

    private readonly int _capacity;
    private readonly int _maxBytes;
    private readonly Lock _gate = new();

    // Both grow up to their bounds: a quiet unit does not pay for a full ring.
    private Entry[] _lines;
    private byte[] _bytes = [];
    private long _count; // lines ever added; the newest is _count - 1
    private int _held; // lines still in the ring (the oldest ones are dropped to make room)
    private long _written; // bytes ever added; byte i lives at _bytes[i % _bytes.Length]
    private long _heldBytes;

    public LineRing(int capacity, int maxBytes = 1024 * 1024)
    {
        _capacity = Math.Max(1, capacity);
        _maxBytes = Math.Max(FirstBytes, maxBytes);
        _lines = new Entry[Math.Min(16, _capacity)];
    }

    /// <param name="utf8">The line in UTF-8, without its terminator.</param>
    public void Add(OutputStream stream, ReadOnlySpan<byte> utf8, DateTimeOffset timestamp)
    {
        ReadOnlySpan<(int Start, int Length)> whole = [(0, utf8.Length)];
        Add(stream, utf8, whole, timestamp);
    }

    /// <summary>Lines in UTF-8, (start, length) in <paramref name="chunk"/>, without their terminators, under one lock; a line longer than the ring's bytes keeps its start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per line: see OutputPump.CutLines
    public void Add(OutputStream stream, ReadOnlySpan<byte> chunk, ReadOnlySpan<(int Start, int Length)> lines, DateTimeOffset timestamp)
    {
        lock (_gate)
        {
            foreach (var (start, length) in lines)
            {
                var utf8 = chunk.Slice(start, length);
                AddLocked(stream, utf8.Length > _maxBytes ? utf8[..Utf8Cut.AtOrBefore(utf8, _maxBytes)] : utf8, timestamp);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddLocked(OutputStream stream, ReadOnlySpan<byte> utf8, DateTimeOffset timestamp)
    {
        GrowFor(utf8.Length);
        while (_held > 0 && (_held == _lines.Length || _heldBytes + utf8.Length > _bytes.Length))
        {
            _heldBytes -= _lines[(_count - _held) % _lines.Length].Length;
            _held--;
        }

        _lines[_count % _lines.Length] = new Entry(_written, utf8.Length, stream, timestamp);
        Copy(utf8);
        _count++;
        _held++;
        _heldBytes += utf8.Length;
    }

    /// <summary>Up to <paramref name="max"/> most recent lines, oldest first.</summary>
    public IReadOnlyList<OutputLine> Last(int max)
    {
        lock (_gate)
        {
            var n = (int)Math.Min(Math.Max(0, max), _held);
            var result = new OutputLine[n];
            for (var i = 0; i < n; i++)
            {
                var entry = _lines[(_count - n + i) % _lines.Length];
                result[i] = new OutputLine(entry.Stream, Decode(entry), entry.Timestamp);
            }

            return result;
        }
    }

    private void GrowFor(int length)
    {
        // Positions are absolute (_count, _written): a larger array keeps every held item at
        // "position % length", so each one moves from its old place to its new one.
        if (_held == _lines.Length && _lines.Length < _capacity)
        {
            var lines = new Entry[Math.Min(_capacity, _lines.Length * 2)];
            for (var i = _count - _held; i < _count; i++)
            {
                lines[i % lines.Length] = _lines[i % _lines.Length];
            }

            _lines = lines;
        }

        var wanted = _heldBytes + length;
        if (wanted > _bytes.Length && _bytes.Length < _maxBytes)
        {
            var size = Math.Max(FirstBytes, _bytes.Length);
            while (size < wanted && size < _maxBytes)
            {
                size = Math.Min(_maxBytes, size * 2);
            }

            var bytes = new byte[size];
            for (var i = _written - _heldBytes; i < _written; i++)
            {
                bytes[i % size] = _bytes[i % _bytes.Length];
            }

            _bytes = bytes;
        }
    }

    private void Copy(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return; // an empty line needs no bytes (and the ring may have none yet)
        }

        var at = (int)(_written % _bytes.Length);
        var first = Math.Min(utf8.Length, _bytes.Length - at);
        utf8[..first].CopyTo(_bytes.AsSpan(at));
        utf8[first..].CopyTo(_bytes);
        _written += utf8.Length;
    }

    private string Decode(Entry entry)
    {
        if (entry.Length == 0)
        {
            return "";
        }

        var at = (int)(entry.Offset % _bytes.Length);
        if (at + entry.Length <= _bytes.Length)
        {
            return Encoding.UTF8.GetString(_bytes, at, entry.Length);
        }

        var joined = new byte[entry.Length];
        var first = _bytes.Length - at;
        _bytes.AsSpan(at, first).CopyTo(joined);
        _bytes.AsSpan(0, entry.Length - first).CopyTo(joined.AsSpan(first));
        return Encoding.UTF8.GetString(joined);
    }

    private readonly record struct Entry(long Offset, int Length, OutputStream Stream, DateTimeOffset Timestamp);
}
