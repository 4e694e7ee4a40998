using System.Text;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using Xunit;

namespace PluginHost.Core.Tests.Logs;

public sealed class LineRingTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    private static void Add(LineRing ring, string text, OutputStream stream = OutputStream.Stdout) => ring.Add(stream, Encoding.UTF8.GetBytes(text), At);

    [Fact]
    public void Keeps_the_newest_lines_in_order_across_many_wraps_of_both_rings()
    {
        // Lines of varying length wrap the byte ring at every offset, and the line ring many times.
        var ring = new LineRing(capacity: 50, maxBytes: 4096);
        var all = Enumerable.Range(0, 5000).Select(i => $"{i}:" + new string((char)('a' + i % 26), i % 97)).ToArray();
        foreach (var text in all)
        {
            Add(ring, text);
        }

        var last = ring.Last(1000).Select(l => l.Text).ToArray();
        Assert.Equal(all[^last.Length..], last);
        Assert.InRange(last.Length, 4096 / 100, 50); // bounded by the bytes when lines are long, never above the line count
    }

    [Fact]
    public void Bounded_by_lines_when_lines_are_short_and_grows_without_losing_any()
    {
        var ring = new LineRing(capacity: 2000);
        for (var i = 0; i < 2500; i++)
        {
            Add(ring, $"line {i}", i % 2 == 0 ? OutputStream.Stdout : OutputStream.Stderr);
        }

        var last = ring.Last(5000);
        Assert.Equal(2000, last.Count);
        Assert.Equal(Enumerable.Range(500, 2000).Select(i => $"line {i}"), last.Select(l => l.Text));
        Assert.Equal(OutputStream.Stdout, last[0].Stream);
        Assert.Equal(OutputStream.Stderr, last[1].Stream);
        Assert.Equal(["line 2498", "line 2499"], ring.Last(2).Select(l => l.Text));
    }

    [Fact]
    public void Empty_lines_and_characters_of_every_width_come_back_as_written()
    {
        var ring = new LineRing(capacity: 10, maxBytes: 4096);
        string[] lines = ["", "é", "", "한국어 로그", "emoji 🚀 end", ""];
        foreach (var text in lines)
        {
            Add(ring, text);
        }

        Assert.Equal(lines, ring.Last(10).Select(l => l.Text));
        Assert.Empty(new LineRing(5).Last(5));
    }

    [Fact]
    public void A_line_longer_than_the_ring_keeps_its_start_cut_between_characters()
    {
        var ring = new LineRing(capacity: 10, maxBytes: 4096);
        Add(ring, "before");
        var huge = new string('한', 3000); // 9,000 bytes; 4,096 is not a character boundary (3 bytes each)
        Add(ring, huge);

        var kept = Assert.Single(ring.Last(10)).Text;
        Assert.Equal(new string('한', 4096 / 3), kept);
        Add(ring, "after"); // the ring is full of the cut line: it makes room
        Assert.Equal(["after"], ring.Last(10).Select(l => l.Text));
    }
}
