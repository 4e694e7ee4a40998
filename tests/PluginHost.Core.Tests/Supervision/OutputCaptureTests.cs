using System.Diagnostics;
using System.Globalization;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Logs;
using Xunit;
using Xunit.Abstractions;

namespace PluginHost.Core.Tests.Supervision;

public sealed class OutputCaptureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Lines = 50_000;

    // A 1 MB file rotated into up to 20 older ones: the 10 MB burst crosses ~10 rotations.
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync(new LogSettings(MaxFileBytes: 1024 * 1024, KeepFiles: 20, TailLines: 2000));

    public async Task DisposeAsync() => await _engine.DisposeAsync();


    [Fact]
    public async Task A_10_MB_burst_of_50000_lines_loses_none_and_splits_or_merges_none_across_rotations()
    {
        // 50,000 lines of 200 bytes, written as fast as awk can.
        var clock = Stopwatch.StartNew();
        await _engine.RunAsync(UnitYaml.Bash("burst", $"awk 'BEGIN {{ pad = sprintf(\"%193s\", \"\"); gsub(/ /, \"x\", pad); for (i = 1; i <= {Lines}; i++) printf \"%06d %s\\n\", i, pad }}'", "restart: never"));
        await _engine.WaitForStateAsync("burst", "stopped");
        clock.Stop();

        var log = _engine.Unit("burst").Log;
        var files = Directory.GetFiles(Path.GetDirectoryName(log.FilePath)!, "burst.log*")
            .OrderByDescending(f => f.EndsWith(".log", StringComparison.Ordinal) ? 0 : int.Parse(f[(f.LastIndexOf('.') + 1)..], CultureInfo.InvariantCulture))
            .ToArray();
        var captured = files.SelectMany(File.ReadLines).Select(l => l.Split(' ')).ToArray();

        Assert.True(files.Length > 5, $"expected rotations, got {files.Length} file(s)");
        Assert.Equal(Lines, captured.Length);
        for (var i = 0; i < Lines; i++)
        {
            Assert.Equal("out", captured[i][1]);
            Assert.Equal((i + 1).ToString("D6", CultureInfo.InvariantCulture), captured[i][2]);
            Assert.Equal(193, captured[i][3].Length);
        }

        Assert.Equal(Lines, log.LinesCaptured);
        Assert.Equal(2000, log.Tail(5000).Count);
        Assert.Equal("050000", log.Tail(1)[0].Text[..6]);
        output.WriteLine($"{Lines} lines, {Lines * 200 / 1e6:F1} MB captured in {clock.Elapsed.TotalSeconds:F2} s ({Lines * 200 / 1e6 / clock.Elapsed.TotalSeconds:F0} MB/s including start and stop)");
    }

    [Fact]
    public async Task Stdout_and_stderr_are_told_apart_and_odd_lines_survive_intact()
    {
        await _engine.RunAsync(UnitYaml.Bash("mixed", "printf \"out one\\r\\n\"; printf \"err one\\n\" >&2; printf \"caf\\xc3\\xa9 \\xe2\\x82\\xac\\n\"; printf \"no newline at the end\"", "restart: never"));
        await _engine.WaitForStateAsync("mixed", "stopped");

        var lines = _engine.Unit("mixed").Log.Tail(10);

        Assert.Contains(lines, l => l.Stream == PluginHost.Contracts.Units.OutputStream.Stdout && l.Text == "out one");
        Assert.Contains(lines, l => l.Stream == PluginHost.Contracts.Units.OutputStream.Stderr && l.Text == "err one");
        Assert.Contains(lines, l => l.Text == "café €");
        Assert.Contains(lines, l => l.Text == "no newline at the end");
    }

    [Fact]
    public async Task The_log_file_holds_each_line_as_read_when_it_is_UTF_8_and_as_decoded_when_it_is_not()
    {
        // The pump copies valid UTF-8 to the file as read and encodes the decoded text otherwise: both must give whole, valid lines.
        await _engine.RunAsync(UnitYaml.Bash("bytes", "printf \"crlf\\r\\n\"; printf \"caf\\xc3\\xa9 \\xe2\\x82\\xac\\n\"; printf \"bad \\xff\\xfe end\\n\"; printf \"\\n\"; printf \"tail\"", "restart: never"));
        await _engine.WaitForStateAsync("bytes", "stopped");
        var unit = _engine.Unit("bytes");
        await Eventually.TrueAsync(() => unit.Log.LinesCaptured == 5, TimeSpan.FromSeconds(10), "five lines captured");

        var bytes = await File.ReadAllBytesAsync(unit.Log.FilePath);
        Assert.True(System.Text.Unicode.Utf8.IsValid(bytes), "the log file holds only valid UTF-8");
        var texts = System.Text.Encoding.UTF8.GetString(bytes).Split('\n')[..^1].Select(l => l.Split(' ', 3)[2]).ToArray();
        Assert.Equal(["crlf", "café €", "bad \uFFFD\uFFFD end", "", "tail"], texts);
    }

    [Fact]
    public async Task A_follower_sees_new_lines_live_and_a_slow_one_loses_only_its_own_oldest_lines()
    {
        await _engine.RunAsync(UnitYaml.Bash("live", "for i in $(seq 1 300); do echo line $i; done; sleep 300"));
        var unit = _engine.Unit("live");
        await Eventually.TrueAsync(() => unit.Log.LinesCaptured == 300, EngineFixture.Deadline, "the first run's lines");
        using var slow = unit.Log.Follow(capacity: 10);
        using var live = unit.Log.Follow();
        unit.Restart();

        var seen = new List<string>();
        while (seen.Count < 300)
        {
            seen.Add((await live.Lines.ReadAsync()).Text);
        }

        Assert.Equal(Enumerable.Range(1, 300).Select(i => $"line {i}"), seen);
        Assert.Equal(290, slow.Dropped);
        Assert.Equal("line 291", (await slow.Lines.ReadAsync()).Text);
    }
}
