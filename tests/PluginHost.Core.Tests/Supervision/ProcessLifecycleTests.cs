using System.Diagnostics;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

public sealed class ProcessLifecycleTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task A_unit_runs_as_the_leader_of_its_own_session()
    {
        await _engine.RunAsync(UnitYaml.Bash("solo", "sleep 300"));

        var status = await _engine.WaitForStateAsync("solo", "ready");

        var stat = ProcStat.Read(status.Pid!.Value)!;
        Assert.Equal(status.Pid, stat.Session);
        Assert.Equal(status.Pid, stat.ProcessGroup);
        Assert.NotEqual(Environment.ProcessId, stat.Session);
    }

    [Fact]
    public async Task Stop_ends_the_whole_group_grandchildren_and_TERM_ignorers_included_after_the_grace()
    {
        await _engine.RunAsync(UnitYaml.Bash("tree", "trap \"\" TERM; (trap \"\" TERM; sleep 300) & sleep 300 & while true; do sleep 1; done",
            "stop: { signal: SIGTERM, grace: 1s }"));
        var status = await _engine.WaitForStateAsync("tree", "ready");
        var session = status.Pid!.Value;
        await Eventually.TrueAsync(() => ProcStat.SessionMembers(session).Count >= 4, EngineFixture.Deadline, "the grandchildren to start");

        var clock = Stopwatch.StartNew();
        _engine.Unit("tree").Stop();
        await _engine.WaitForStateAsync("tree", "stopped");
        clock.Stop();

        Assert.Empty(ProcStat.SessionMembers(session));
        // Not before the grace; that SIGKILL comes right at the grace is ProcessGroupStopperTests' exact, clock-driven check.
        Assert.True(clock.Elapsed.TotalSeconds >= 0.95, $"stopped after {clock.Elapsed.TotalSeconds:F2} s, before the 1 s grace");
        var exited = _engine.EventsOf("tree").Last(e => e.Kind == "unit_exited");
        Assert.True(exited.Payload.GetProperty("forced").GetBoolean());
    }

    [Fact]
    public async Task A_descendant_that_left_the_session_is_stopped_with_the_unit_within_the_grace()
    {
        var marker = $"40{Random.Shared.Next(100, 999)}";
        await _engine.RunAsync(UnitYaml.Bash("escaper", $"setsid sleep {marker} & wait", "stop: { signal: SIGTERM, grace: 2s }"));
        var status = await _engine.WaitForStateAsync("escaper", "ready");
        var escaped = await Eventually.WaitAsync(() => EngineFixture.ProcessesWithArgument(marker).Select(ProcStat.Read).FirstOrDefault(), EngineFixture.Deadline, "the setsid child");
        Assert.NotEqual(status.Pid, escaped.Session); // it did leave the session

        var clock = Stopwatch.StartNew();
        _engine.Unit("escaper").Stop();
        await _engine.WaitForStateAsync("escaper", "stopped");

        Assert.Empty(EngineFixture.ProcessesWithArgument(marker));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the stop took {clock.Elapsed.TotalSeconds:F1} s: longer than its 2 s grace, though SIGTERM ends everything at once");
    }

    [Fact]
    public async Task A_descendant_that_left_the_session_and_lost_its_parent_is_still_stopped_once_it_was_seen()
    {
        var marker = $"41{Random.Shared.Next(100, 999)}";
        await _engine.RunAsync(UnitYaml.Bash("orphaner", $"(setsid sleep {marker} & sleep 1); exec sleep 300"));
        var status = await _engine.WaitForStateAsync("orphaner", "ready");

        // Its parent (the subshell) exits after a second: init adopts it, nothing in /proc leads from the unit to it any more.
        var orphan = await Eventually.WaitAsync(() => EngineFixture.ProcessesWithArgument(marker).Select(ProcStat.Read)
            .FirstOrDefault(p => p is not null && ProcStat.Read(p.ParentPid)?.Session != status.Pid), EngineFixture.Deadline, "the child to be orphaned");
        Assert.NotEqual(status.Pid, orphan!.Session);
        _engine.Unit("orphaner").Stop();
        await _engine.WaitForStateAsync("orphaner", "stopped");

        Assert.Empty(EngineFixture.ProcessesWithArgument(marker));
    }

    [Fact]
    public async Task After_kill_9_of_the_main_process_its_group_is_emptied_before_the_new_process_starts()
    {
        await _engine.RunAsync(UnitYaml.Bash("crashy", "sleep 300 & echo child $!; wait", "restart: { policy: always, backoff: { initial: 10ms } }"));
        var first = await _engine.WaitForStateAsync("crashy", "ready");
        var oldSession = first.Pid!.Value;
        var grandchild = int.Parse((await Eventually.WaitAsync(() => _engine.Unit("crashy").Log.Tail(10).FirstOrDefault(l => l.Text.StartsWith("child ", StringComparison.Ordinal))?.Text, EngineFixture.Deadline, "the child's pid"))[6..], System.Globalization.CultureInfo.InvariantCulture);

        Core.Processes.LibC.kill(first.Pid.Value, 9);
        var second = await _engine.WaitForAsync("crashy", s => s.State == "ready" && s.Pid != first.Pid, "a new process");

        Assert.False(EngineFixture.IsAlive(grandchild));
        Assert.Empty(ProcStat.SessionMembers(oldSession));
        Assert.Equal(1, second.Restarts);
        var kinds = _engine.EventsOf("crashy").Select(e => e.Kind == "unit_state" ? "state:" + e.Payload.GetProperty("to").GetString() : e.Kind).ToList();
        var exitedAt = kinds.IndexOf("unit_exited");
        Assert.True(exitedAt >= 0 && exitedAt < kinds.LastIndexOf("state:starting"), string.Join(", ", kinds));
        Assert.Equal("CRASHED", _engine.Unit("crashy").Status().LastError!.Code);
        Assert.Contains("signal 9", _engine.Unit("crashy").Status().LastError!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ready_unit_whose_process_died_is_stopping_not_ready_while_its_leftovers_get_their_grace()
    {
        await _engine.RunAsync(UnitYaml.Bash("leftovers", "(trap \"\" TERM; sleep 300) & echo child $!; wait",
            "stop: { signal: SIGTERM, grace: 1s }\nrestart: { policy: always, backoff: { initial: 10ms } }"));
        var first = await _engine.WaitForStateAsync("leftovers", "ready");
        var grandchild = int.Parse((await Eventually.WaitAsync(() => _engine.Unit("leftovers").Log.Tail(10).FirstOrDefault(l => l.Text.StartsWith("child ", StringComparison.Ordinal))?.Text, EngineFixture.Deadline, "the child's pid"))[6..], System.Globalization.CultureInfo.InvariantCulture);

        Core.Processes.LibC.kill(first.Pid!.Value, 9);
        var cleaning = await _engine.WaitForAsync("leftovers", s => s.State != "ready", "the unit to leave ready");
        var grandchildAliveThen = EngineFixture.IsAlive(grandchild);
        await _engine.WaitForAsync("leftovers", s => s.State == "ready" && s.Pid != first.Pid, "a new process");

        Assert.Equal("stopping", cleaning.State);
        Assert.Contains("killed by signal 9", cleaning.Reason, StringComparison.Ordinal);
        Assert.True(grandchildAliveThen, "the TERM-ignoring grandchild should still be inside its grace when the state is read");
        Assert.False(EngineFixture.IsAlive(grandchild));
        var path = _engine.EventsOf("leftovers").Where(e => e.Kind == "unit_state").Select(e => e.Payload.GetProperty("to").GetString()!).ToArray();
        Assert.Equal(["starting", "ready", "stopping", "backoff", "starting", "ready"], path);
    }
}
