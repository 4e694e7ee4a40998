using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>A unit's supervision never ends by accident: not after thousands of restarts, not on a host bug, not on a plugin's.</summary>
public sealed class SupervisionFaultTests
{
    private const string CrashLoop = "restart: { policy: always, backoff: { initial: 10ms, max: 20ms }, limit: { restarts: 1000, window: 1m }, minInterval: 0s }";

    [Fact]
    public async Task Zero_delay_restarts_go_on_past_the_1025th()
    {
        await using var engine = await EngineFixture.StartAsync();
        await engine.RunAsync("""
            apiVersion: pluginhost/v1
            kind: process
            name: flappy
            restart: { policy: always, backoff: { initial: 0s }, limit: { restarts: 10000, window: 1s }, minInterval: 0s }
            spec: { command: /bin/false }
            """);

        await engine.WaitForAsync("flappy", s => s.Restarts > 1100, "more than 1100 restarts");

        Assert.DoesNotContain(engine.EventsOf("flappy"), e => e.Kind == "unit_supervision_fault");
        engine.Unit("flappy").Stop();
        var stopped = await engine.WaitForStateAsync("flappy", "stopped");
        Assert.Null(stopped.Pid);
    }

    [Fact]
    public async Task A_fault_of_the_host_is_reported_and_the_unit_is_supervised_on()
    {
        // The engine's jitter source fails once, as a host bug would, in the middle of handling a crash.
        var calls = 0;
        await using var engine = await EngineFixture.StartAsync(random: () => Interlocked.Increment(ref calls) == 1 ? double.NaN : 0.5);
        await engine.RunAsync(UnitYaml.Bash("crashy", "sleep 0.05; exit 1", CrashLoop));

        var fault = await Contracts.Testing.Eventually.WaitAsync(() => engine.EventsOf("crashy").FirstOrDefault(e => e.Kind == "unit_supervision_fault"),
            EngineFixture.Deadline, "the fault to be reported");
        Assert.Equal("HOST_ERROR", fault.Payload.GetProperty("code").GetString());
        Assert.Contains("carries on supervising crashy", fault.Payload.GetProperty("remedy").GetString(), StringComparison.Ordinal);

        var recovered = await engine.WaitForAsync("crashy", s => s.Restarts >= 3, "restarts to go on after the fault");
        Assert.Equal("CRASHED", recovered.LastError?.Code);
        engine.Unit("crashy").Stop();
        Assert.Null((await engine.WaitForStateAsync("crashy", "stopped")).Pid);
    }

    [Fact]
    public async Task A_plugin_that_throws_while_preparing_fails_the_unit_with_a_code_that_names_the_plugin()
    {
        await using var engine = await EngineFixture.StartAsync();
        await engine.RunAsync("apiVersion: pluginhost/v1\nkind: sample\nname: buggy\nspec: { message: hi, failPrepare: true }\n");

        var failed = await engine.WaitForStateAsync("buggy", "failed");

        Assert.Equal("PLUGIN_FAILED", failed.LastError?.Code);
        Assert.Contains("the widget registry is not configured", failed.LastError!.Message, StringComparison.Ordinal);
        Assert.Contains("kind sample", failed.LastError.Remedy, StringComparison.Ordinal);
        Assert.DoesNotContain(engine.EventsOf("buggy"), e => e.Kind == "unit_supervision_fault");
    }

    [Fact]
    public async Task A_plugin_whose_stop_hook_hangs_does_not_hold_up_the_host_stop_and_every_unit_stops()
    {
        await using var engine = await EngineFixture.StartAsync();
        await engine.RunAsync(
            "apiVersion: pluginhost/v1\nkind: sample\nname: stuck\nstop: { grace: 300ms }\nspec: { message: hi, hangOnStop: true }\n",
            UnitYaml.Bash("first", "exec sleep 300"),
            UnitYaml.Bash("after", "exec sleep 301", "after: [stuck]"));
        var pids = new List<int>();
        foreach (var name in new[] { "stuck", "first", "after" })
        {
            pids.Add((await engine.WaitForStateAsync(name, "ready")).Pid!.Value);
        }

        var failures = await engine.Supervisor.StopAllAsync().WaitAsync(EngineFixture.Deadline);

        Assert.Empty(failures); // the hook's overrun is the plugin's, and logged; the stop itself went on
        Assert.All(pids, pid => Assert.False(EngineFixture.IsAlive(pid), $"pid {pid} outlived the host stop"));
    }

    [Fact]
    public async Task A_unit_killed_at_the_host_stop_deadline_takes_its_output_holder_with_it()
    {
        // The stop hook hangs through the whole grace, so the unit's own stop is still waiting on it
        // when the host's deadline kills what runs — and the host exits right after.
        await using var engine = await EngineFixture.StartAsync(stopDeadline: TimeSpan.FromSeconds(1));
        await engine.RunAsync("apiVersion: pluginhost/v1\nkind: sample\nname: stuck\nstop: { grace: 1m }\nspec: { message: hi, hangOnStop: true }\n");
        var pid = (await engine.WaitForStateAsync("stuck", "ready")).Pid!.Value;
        var holder = HolderOf(pid);
        var holderStart = Core.Processes.ProcStat.Read(holder)!.StartTimeTicks;
        try
        {
            var failures = await engine.Supervisor.StopAllAsync().WaitAsync(EngineFixture.Deadline);

            Assert.Equal(["stuck: not stopped within 1s; killed (SIGKILL to its processes)"], failures);
            await Contracts.Testing.Eventually.TrueAsync(() => !EngineFixture.IsAlive(pid) && !EngineFixture.IsAlive(holder), TimeSpan.FromSeconds(10),
                $"the unit {pid} and its output holder {holder} to be killed at the deadline, not when the 1 min hook gives up");
        }
        finally
        {
            if (Core.Processes.ProcStat.Read(holder) is { IsZombie: false } left && left.StartTimeTicks == holderStart)
            {
                Core.Processes.LibC.kill(holder, Core.Processes.LibC.SIGKILL); // should the test fail: it would outlive the test run
            }
        }
    }

    /// <summary>The output holder of a unit's process: the one whose fd 3 is the pipe the unit writes its stdout to.</summary>
    private static int HolderOf(int pid)
    {
        var pipe = new FileInfo($"/proc/{pid}/fd/1").LinkTarget;
        return Core.Processes.ProcStat.All().Single(p => p.ParentPid == Environment.ProcessId && LinkOf(p.Pid) == pipe).Pid;

        static string? LinkOf(int candidate)
        {
            try
            {
                return new FileInfo($"/proc/{candidate}/fd/3").LinkTarget;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
