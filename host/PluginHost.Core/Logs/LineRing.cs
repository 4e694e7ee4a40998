using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>The last N output lines of a unit, for <c>tail</c>; fixed memory whatever the unit writes.</summary>
internal sealed class LineRing(int capacity)
{
    private readonly OutputLine[] _lines = new OutputLine[Math.Max(1, capacity)];
    private readonly Lock _gate = new();
    private long _count;

    public void Add(OutputLine line)
    {
        lock (_gate)
        {
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
