using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using Xunit;

namespace PluginHost.Core.Tests.Logs;

public sealed class RotatingLogFileTests : IDisposable
{
    private readonly TempDirectory _dir = new("rotating-log");

    public void Dispose() => _dir.Dispose();

    private static OutputLine Line(int n) => new(OutputStream.Stdout, $"line {n:D4} " + new string('x', 90), DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Rotation_keeps_the_newest_files_in_order_and_deletes_the_oldest_without_leaving_it_aside()
    {
        var path = _dir.Combine("u.log");
        using (var file = new RotatingLogFile(path, new LogSettings(MaxFileBytes: 1024, KeepFiles: 2)))
        {
            for (var i = 0; i < 200; i++)
            {
                file.Write(Line(i));
                file.Flush();
            }
        }

        // The oldest file is renamed aside and deleted off the writer's path: wait for that, then nothing but the kept files is left.
        await Eventually.TrueAsync(() => Directory.GetFiles(_dir.Path).Length == 3, TimeSpan.FromSeconds(10), "u.log, u.log.1 and u.log.2 only");
        var numbers = new[] { "u.log.2", "u.log.1", "u.log" }
            .SelectMany(name => File.ReadAllLines(_dir.Combine(name)))
            .Select(l => int.Parse(l.Split(' ')[3]))
            .ToArray();
        Assert.Equal(Enumerable.Range(200 - numbers.Length, numbers.Length), numbers);
    }

    [Fact]
    public void A_file_a_killed_host_renamed_aside_is_deleted_when_the_log_is_opened_again()
    {
        var path = _dir.Combine("u.log");
        File.WriteAllText(path + ".5.4242.1.deleted", "old output");
        File.WriteAllText(_dir.Combine("other.log.5.4242.1.deleted"), "another unit's");

        using var file = new RotatingLogFile(path, LogSettings.Default);

        Assert.False(File.Exists(path + ".5.4242.1.deleted"));
        Assert.True(File.Exists(_dir.Combine("other.log.5.4242.1.deleted")), "another unit's leftovers are its own log's to delete");
    }
}
