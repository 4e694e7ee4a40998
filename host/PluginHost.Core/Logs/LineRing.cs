using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>The last N output lines of a unit, for <c>tail</c>; fixed memory whatever the unit writes.</summary>
internal sealed class LineRing(int capacity)
{
    private readonly int _capacity = Math.Max(1, capacity);
    private readonly Lock _gate = new();

    // Grows up to the capacity: a quiet unit does not pay for a full ring.
    private OutputLine[] _lines = new OutputLine[Math.Min(16, Math.Max(1, capacity))];
    private long _count;

    public void Add(OutputLine line)
    {
        lock (_gate)
        {
            if (_count == _lines.Length && _lines.Length < _capacity)
            {
                Array.Resize(ref _lines, Math.Min(_capacity, _lines.Length * 2));
            }

            _lines[_count % _lines.Length] = line;
            _count++;
        }
    }

    /// <summary>Up to <paramref name="max"/> most recent lines, oldest first.</summary>
    public IReadOnlyList<OutputLine> Last(int max)
    {
        lock (_gate)
        {
            var n = (int)Math.Min(Math.Min(max, _lines.Length), _count);
            var result = new OutputLine[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = _lines[(_count - n + i) % _lines.Length];
            }

            return result;
        }
    }
}
