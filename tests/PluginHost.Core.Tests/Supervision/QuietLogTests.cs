using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>A quiet unit's log file is closed (one descriptor fewer per unit) and opened again by its next line, which lands whole after the rest.</summary>
public sealed class QuietLogTests
{
    [Fact]
    public async Task A_quiet_units_log_is_closed_and_its_next_lines_open_it_again_in_order()
    {
        await using var engine = await EngineFixture.StartAsync(quietLogInterval: TimeSpan.FromMilliseconds(100));
        var go = Path.Combine(engine.Data, "go");
        await engine.RunAsync(UnitYaml.Bash("quiet", $"echo one; while [ ! -e {go} ]; do sleep 0.05; done; echo two; echo three; exec sleep 300"));
        await engine.WaitForStateAsync("quiet", "ready");
        var path = engine.Unit("quiet").Log.FilePath;
        await Eventually.TrueAsync(() => File.ReadAllText(path).Contains("one\n", StringComparison.Ordinal), EngineFixture.Deadline, "the first line in the file");

        await Eventually.TrueAsync(() => !IsOpen(path), EngineFixture.Deadline, "the quiet unit's log to be closed");
        await File.WriteAllTextAsync(go, "");
        await Eventually.TrueAsync(() => File.ReadAllText(path).Contains("three\n", StringComparison.Ordinal), EngineFixture.Deadline, "the later lines in the file");

        Assert.Equal(["one", "two", "three"], File.ReadAllLines(path).Select(l => l.Split(' ', 3)[2]));
    }

    /// <summary>Whether this process (the engine's) holds the file open.</summary>
    private static bool IsOpen(string path) => Directory.GetFiles("/proc/self/fd").Any(fd =>
    {
        try
        {
            return new FileInfo(fd).LinkTarget == path;
        }
        catch (IOException)
        {
            return false; // closed meanwhile
        }
    });
}
