using PluginHost.Contracts.Testing;
using PluginHost.Core.Manifests;
using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

public sealed class EngineBehaviourTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();


    private static string Sample(string name) => $"apiVersion: pluginhost/v1\nkind: sample\nname: {name}\nspec: {{ message: hi }}\n";

    private IEnumerable<(string Unit, string To, DateTimeOffset At)> Transitions() =>
        _engine.Events.Recent().Where(e => e.Kind == "unit_state").Select(e => (e.Unit!, e.Payload.GetProperty("to").GetString()!, e.Timestamp));

    [Fact]
    public async Task Units_start_after_what_they_follow_is_ready_and_stop_in_reverse()
    {
        await _engine.RunAsync(
            UnitYaml.Bash("db", "sleep 0.5; echo ready; sleep 300", "health: { readiness: { log: { pattern: ready } } }"),
            UnitYaml.Bash("api", "sleep 300", "after: [db]"),
            UnitYaml.Bash("web", "sleep 300", "after: [api]"));
        await _engine.WaitForStateAsync("web", "ready");

        var readyAt = Transitions().Where(t => t.To == "ready").ToDictionary(t => t.Unit, t => t.At);
        var (dbPid, apiPid) = (_engine.Unit("db").Status().Pid!.Value, _engine.Unit("api").Status().Pid!.Value);
        Assert.True(readyAt["db"] <= readyAt["api"] && readyAt["api"] <= readyAt["web"]);
        // By the kernel's own clock (1/100 s): api was not even spawned until db, 0.5 s into its run, was ready.
        var apart = ProcStat.Read(apiPid)!.StartTimeTicks - ProcStat.Read(dbPid)!.StartTimeTicks;
        Assert.True(apart >= 45, $"api started {apart / 100.0:F2} s after db, before db said it was ready");

        await _engine.Supervisor.StopAllAsync();

        var stopped = Transitions().Where(t => t.To == "stopped").Select(t => t.Unit).ToArray();
        Assert.Equal(["web", "api", "db"], stopped);
    }

    [Fact]
    public async Task Requests_that_do_not_fit_the_state_are_answered_cleanly_and_change_nothing()
    {
        await _engine.RunAsync(UnitYaml.Bash("idem", "sleep 300"));
        var ready = await _engine.WaitForStateAsync("idem", "ready");
        var unit = _engine.Unit("idem");

        var again = unit.Start();
        Assert.True(again.Success);
        Assert.Equal("idem is already ready", again.Message);
        Assert.Equal(ready.Pid, unit.Status().Pid);

        unit.Stop();
        await _engine.WaitForStateAsync("idem", "stopped");
        var stopAgain = unit.Stop();
        Assert.True(stopAgain.Success);
        Assert.Equal("idem is already stopped", stopAgain.Message);
        Assert.Single(_engine.EventsOf("idem"), e => e.Kind == "unit_state" && e.Payload.GetProperty("to").GetString() == "stopped");
    }

    [Fact]
    public async Task A_stop_during_a_long_start_cancels_it_and_leaves_no_process()
    {
        await _engine.RunAsync(UnitYaml.Bash("hang", "sleep 300", "health: { startTimeout: 5m, readiness: { log: { pattern: never } } }\nstop: { grace: 200ms }"));
        await _engine.WaitForAsync("hang", s => s is { State: "starting", Pid: not null }, "the process to be spawned");
        var pid = _engine.Unit("hang").Status().Pid!.Value;

        _engine.Unit("hang").Stop();
        await _engine.WaitForStateAsync("hang", "stopped");

        Assert.False(EngineFixture.IsAlive(pid));
    }

    [Fact]
    public async Task Restart_stop_and_start_requests_in_quick_succession_never_leave_a_second_process()
    {
        const string Marker = "301777";
        await _engine.RunAsync(UnitYaml.Bash("busy", $"exec sleep {Marker}"));
        await _engine.WaitForStateAsync("busy", "ready");
        var unit = _engine.Unit("busy");

        // Requests land while the loop is stopping, starting or watching: every interleaving the
        // API allows (the latency benchmark fires them back to back).
        for (var i = 0; i < 40; i++)
        {
            // Spacing of 0–4 ms between requests: like an API client's round trips, so requests
            // land while the loop is stopping, spawning or waiting for readiness.
            unit.Restart();
            await Task.Delay(i % 5);
            unit.Stop();
            await Task.Delay(i * 3 % 5);
            unit.Start();
            await Task.Delay(i * 7 % 5);
        }

        // The last requests may still be under way when a first "ready" is seen (that process is then
        // stopped): settled means ready, with exactly the status's process running — a second one,
        // ever, would keep this from settling and the failure would name both.
        var alive = Array.Empty<int>();
        await Eventually.TrueAsync(() =>
        {
            alive = EngineFixture.ProcessesWithArgument(Marker);
            return unit.Status() is { State: "ready", Pid: { } pid } && alive.SequenceEqual([pid]);
        }, TimeSpan.FromSeconds(30), "exactly one process, the ready one");
        var ready = unit.Status();
        unit.Stop();
        await _engine.WaitForStateAsync("busy", "stopped");

        Assert.Equal([ready.Pid!.Value], alive);
        Assert.Empty(EngineFixture.ProcessesWithArgument(Marker));
    }

    [Fact]
    public async Task A_crash_loop_gives_up_after_the_intensity_limit_with_an_alert_and_the_last_output()
    {
        await _engine.RunAsync(UnitYaml.Bash("loop", "echo \"fatal: config missing\" >&2; exit 3", "restart: { policy: on-failure, backoff: { initial: 10ms, max: 20ms }, limit: { restarts: 3, window: 1m }, minInterval: 0s }"));

        var failed = await _engine.WaitForStateAsync("loop", "failed");

        Assert.Equal(3, failed.Restarts);
        Assert.Equal("RESTART_LIMIT", failed.LastError!.Code);
        Assert.Contains("3 restarts within 1m", failed.LastError.Message, StringComparison.Ordinal);
        Assert.Contains("exit code 3", failed.LastError.Message, StringComparison.Ordinal);
        Assert.Single(_engine.EventsOf("loop"), e => e.Kind == "unit_gave_up");
        Assert.Equal("fatal: config missing", _engine.Unit("loop").Log.Tail(1)[0].Text);

        var started = _engine.Unit("loop").Start();
        Assert.Equal("starting loop", started.Message);
    }

    [Fact]
    public async Task A_clean_exit_under_on_failure_stops_the_unit_without_restart()
    {
        await _engine.RunAsync(UnitYaml.Bash("oneshot", "echo done", "restart: on-failure"));

        var stopped = await _engine.WaitForStateAsync("oneshot", "stopped");

        Assert.Equal(0, stopped.Restarts);
        Assert.Null(stopped.LastError);
    }

    [Fact]
    public async Task Manifest_changes_touch_only_the_units_that_changed()
    {
        var before = await _engine.RunAsync(UnitYaml.Bash("keep", "sleep 300"), UnitYaml.Bash("change", "sleep 300"), UnitYaml.Bash("remove", "sleep 300"));
        var keep = (await _engine.WaitForStateAsync("keep", "ready")).Pid;
        var change = (await _engine.WaitForStateAsync("change", "ready")).Pid;
        var remove = (await _engine.WaitForStateAsync("remove", "ready")).Pid!.Value;

        File.Delete(Path.Combine(Path.GetDirectoryName(_engine.Unit("remove").Manifest.File)!, "remove.yaml"));
        var after = _engine.Write(UnitYaml.Bash("change", "sleep 301"), UnitYaml.Bash("added", "sleep 300"));
        await _engine.Supervisor.ApplyAsync(ManifestDiff.Between(before, after), after, CancellationToken.None);

        Assert.Equal(keep, _engine.Unit("keep").Status().Pid);
        var changed = await _engine.WaitForStateAsync("change", "ready");
        Assert.NotEqual(change, changed.Pid);
        Assert.False(EngineFixture.IsAlive(change!.Value));
        Assert.False(EngineFixture.IsAlive(remove));
        Assert.Null(_engine.Supervisor.Find("remove"));
        await _engine.WaitForStateAsync("added", "ready");
    }

    [Fact]
    public async Task A_plugin_reload_hands_running_units_over_without_restarting_them()
    {
        await _engine.RunAsync(Sample("s1"), Sample("s2"));
        var pids = new[] { (await _engine.WaitForStateAsync("s1", "ready")).Pid, (await _engine.WaitForStateAsync("s2", "ready")).Pid };

        var outcome = await _engine.Plugins.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(2, outcome.UnitsHandedOver);
        Assert.True(outcome.OldVersionCollected, "a unit kept a reference to the old plugin version");
        Assert.Equal(pids, new[] { _engine.Unit("s1").Status().Pid, _engine.Unit("s2").Status().Pid });
        Assert.All(new[] { "s1", "s2" }, n => Assert.Equal(0, _engine.Unit(n).Status().Restarts));
        _engine.Unit("s1").Restart();
        await _engine.WaitForAsync("s1", s => s.State == "ready" && s.Pid != pids[0], "a restart with the new version");
    }

    [Fact]
    public async Task Cpu_and_memory_of_the_whole_process_tree_are_on_the_status()
    {
        await _engine.RunAsync(UnitYaml.Bash("busy", "(while :; do :; done) & sleep 300"));

        // A busy loop shares two cores with the rest of the suite: any clearly non-zero share proves the sampling.
        var busy = await _engine.WaitForAsync("busy", s => s.CpuPercent > 20, "CPU to be measured");

        Assert.True(busy.RssBytes > 1024 * 1024, $"rss {busy.RssBytes}");
    }

    [Fact]
    public async Task Every_transition_and_the_running_process_are_in_the_journal()
    {
        await _engine.RunAsync(UnitYaml.Bash("journaled", "sleep 300"));
        var ready = await _engine.WaitForStateAsync("journaled", "ready");

        var record = Assert.Single(_engine.Journal.Processes());
        Assert.Equal(("journaled", ready.Pid!.Value, ready.Pid.Value), (record.Unit, record.Pid, record.Session));
        Assert.Equal(ProcStat.Read(ready.Pid.Value)!.StartTimeTicks, record.StartTimeTicks);

        _engine.Unit("journaled").Stop();
        await _engine.WaitForStateAsync("journaled", "stopped");

        Assert.Empty(_engine.Journal.Processes());
        Assert.Equal(
            [("idle", "starting"), ("starting", "ready"), ("ready", "stopping"), ("stopping", "stopped")],
            _engine.Journal.Transitions("journaled").Select(t => (t.From, t.To)));
    }
}
