using Xunit;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Tests.Processes;

/// <remarks>Alone: the stress test keeps both cores busy spawning for seconds.</remarks>
[Collection(SerialCollection.Name)]
public sealed class ExitWatchTests
{
    private static readonly SpawnRequest ExitAtOnce = new("/bin/true", [], new Dictionary<string, string>(), "/");

    [Fact]
    public async Task A_child_is_seen_to_exit_with_its_code()
    {
        var pid = ProcessSpawner.SpawnDetached(new SpawnRequest("/bin/sh", ["-c", "exit 7"], new Dictionary<string, string>(), "/"));

        var status = await ExitWatch.WhenExited(pid, isChild: true).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(7, status.Code);
    }

    /// <summary>
    /// Found by CI on a loaded machine: the watch thread closed an exited process's pidfd before
    /// forgetting it, so a process watched in that instant got the same descriptor number, was
    /// forgotten in its place and reaped while alive — the thread blocked in waitpid, and no exit of
    /// any unit was seen again until that process ended.
    /// </summary>
    [Fact]
    public async Task Every_exit_is_seen_while_processes_start_and_end_at_once_on_several_threads()
    {
        const int Threads = 8, PerThread = 1500;
        var seen = 0;
        var workers = Enumerable.Range(0, Threads).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                var pid = ProcessSpawner.SpawnDetached(ExitAtOnce);
                var status = await ExitWatch.WhenExited(pid, isChild: true).WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(0, status.Code);
                Interlocked.Increment(ref seen);
            }
        })).ToArray();

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(Threads * PerThread, seen);
    }

    [Fact]
    public async Task A_long_lived_child_does_not_hold_up_the_exits_of_others()
    {
        var sleeper = ProcessSpawner.SpawnDetached(new SpawnRequest("/bin/sleep", ["30"], new Dictionary<string, string>(), "/"));
        var sleeperExit = ExitWatch.WhenExited(sleeper, isChild: true);
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var pid = ProcessSpawner.SpawnDetached(ExitAtOnce);
                await ExitWatch.WhenExited(pid, isChild: true).WaitAsync(TimeSpan.FromSeconds(10));
            }

            Assert.False(sleeperExit.IsCompleted);
        }
        finally
        {
            LibC.kill(sleeper, LibC.SIGKILL);
        }

        Assert.Equal(LibC.SIGKILL, (await sleeperExit.WaitAsync(TimeSpan.FromSeconds(10))).Signal);
    }
}
