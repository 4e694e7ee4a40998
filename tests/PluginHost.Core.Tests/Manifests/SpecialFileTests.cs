using System.Diagnostics;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Manifests;
using PluginHost.Core.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

/// <summary>
/// Only regular files are read, without blocking and up to the size limit: a FIFO, a device, or a
/// symlink to one is a problem with its path — never a hang, never an unbounded read.
/// </summary>
public sealed class SpecialFileTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private void Good(string name) => _dir.Write(name + ".yaml", $"apiVersion: pluginhost/v1\nkind: worker\nname: {name}\nspec: {{ command: /bin/{name} }}\n");

    private static Task<UnitSetResult> LoadAsync(string directory) => Task.Run(() => UnitSetLoader.Load(directory, new TestKinds())).WaitAsync(Deadline);

    internal static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Fact]
    public async Task A_fifo_named_like_a_manifest_is_a_problem_not_a_hang()
    {
        Good("a");
        MakeFifo(_dir.Combine("fifo.yaml"));

        var result = await LoadAsync(_dir.Path);

        var problem = Assert.Single(result.Problems);
        Assert.EndsWith("fifo.yaml", problem.File, StringComparison.Ordinal);
        Assert.Contains("a FIFO (named pipe), not a regular file", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_symlink_to_dev_zero_is_a_problem_and_is_never_read()
    {
        Good("a");
        File.CreateSymbolicLink(_dir.Combine("zero.yaml"), "/dev/zero");

        var result = await LoadAsync(_dir.Path);

        Assert.Contains("a character device, not a regular file", Assert.Single(result.Problems).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_huge_file_is_refused_after_reading_no_more_than_the_limit()
    {
        Good("a");
        using (var sparse = File.Create(_dir.Combine("target")))
        {
            sparse.SetLength(4L << 30); // 4 GB of holes: reading it whole would take the host's memory
        }

        File.CreateSymbolicLink(_dir.Combine("big.yaml"), _dir.Combine("target"));

        var result = await LoadAsync(_dir.Path);

        Assert.Contains($"a file of more than {YamlDocumentReader.MaxFileBytes} bytes", Assert.Single(result.Problems).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_that_are_not_UTF_8_are_a_problem_at_their_position()
    {
        File.WriteAllBytes(_dir.Combine("latin.yaml"), [.. "apiVersion: pluginhost/v1\nkind: worker\nname: caf"u8, 0xE9, .. "\nspec: { command: /bin/x }\n"u8]);

        var result = await LoadAsync(_dir.Path);

        var problem = Assert.Single(result.Problems);
        Assert.Equal((3, 10), (problem.Line, problem.Column));
        Assert.Contains("a byte that is not UTF-8 (0xE9)", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_watcher_goes_on_after_a_fifo_came_and_went()
    {
        Good("a");
        var applied = new List<ManifestDiff>();
        var initial = UnitSetLoader.Load(_dir.Path, new TestKinds()).Units!;
        using var watcher = new ManifestWatcher(_dir.Path, initial, new TestKinds(), new PluginHost.Core.Events.EventBus(), TimeProvider.System, TimeSpan.FromMilliseconds(50),
            (diff, _, _) =>
            {
                lock (applied)
                {
                    applied.Add(diff);
                }

                return Task.CompletedTask;
            },
            NullLogger<ManifestWatcher>.Instance);

        MakeFifo(_dir.Combine("fifo.yaml"));
        Assert.True((await watcher.ReloadAsync(CancellationToken.None).WaitAsync(Deadline)).Rejected);
        File.Delete(_dir.Combine("fifo.yaml"));
        Good("b");

        await Eventually.TrueAsync(() =>
        {
            lock (applied)
            {
                return applied.Any(d => d.Added.Any(u => u.Name == "b"));
            }
        }, Deadline, "the edit after the FIFO to be applied");
    }
}
