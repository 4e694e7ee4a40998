using PluginHost.Contracts.Units;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>The handle a driver gets on its own unit (IUnitContext.Control), against real processes.</summary>
public sealed class UnitControlTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task Start_then_WhenReady_completes_once_a_unit_that_was_not_autostarted_is_ready()
    {
        await _engine.RunAsync(UnitYaml.Bash("lazy", "sleep 300", "autostart: false"));
        var control = _engine.Unit("lazy").Context.Control;
        Assert.Equal(UnitState.Idle, control.State);

        var waiting = control.WhenReadyAsync(CancellationToken.None);
        Assert.Contains("lazy is idle", (await Assert.ThrowsAsync<UnitErrorException>(() => waiting)).Error.Message, StringComparison.Ordinal);

        var answer = control.Start("enabled by a test");
        await control.WhenReadyAsync(CancellationToken.None).WaitAsync(EngineFixture.Deadline);

        Assert.True(answer.Success);
        Assert.Equal(UnitState.Ready, control.State);
        Assert.NotNull(_engine.Unit("lazy").Status().Pid);
        Assert.Contains(_engine.EventsOf("lazy"), e => e.Kind == "unit_state" && e.Payload.GetProperty("reason").GetString() == "enabled by a test");
    }

    [Fact]
    public async Task WhenStopped_completes_only_once_the_whole_group_is_gone_after_its_grace()
    {
        await _engine.RunAsync(UnitYaml.Bash("stubborn", "trap \"\" TERM; sleep 300 & while true; do sleep 0.05; done", "stop: { signal: SIGTERM, grace: 500ms }"));
        var session = (await _engine.WaitForStateAsync("stubborn", "ready")).Pid!.Value;
        var control = _engine.Unit("stubborn").Context.Control;

        var stopping = control.WhenStoppedAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted, "a ready unit is not stopped");
        control.Stop("disabled by a test");
        await stopping.WaitAsync(EngineFixture.Deadline);

        Assert.Equal(UnitState.Stopped, control.State);
        Assert.Empty(PluginHost.Core.Processes.ProcStat.SessionMembers(session));
        Assert.True(control.WhenStoppedAsync(CancellationToken.None).IsCompleted, "already stopped: at once");
    }

    [Fact]
    public async Task A_preflight_failure_fails_the_unit_at_once_and_WhenReady_answers_with_its_error()
    {
        await _engine.RunAsync("""
            apiVersion: pluginhost/v1
            kind: process
            name: missing
            restart: { policy: always, backoff: { initial: 10ms } }
            spec: { command: /no/such/program }
            """);
        var control = _engine.Unit("missing").Context.Control;

        var error = await Assert.ThrowsAsync<UnitErrorException>(() => control.WhenReadyAsync(CancellationToken.None).WaitAsync(EngineFixture.Deadline));

        Assert.Equal("COMMAND_NOT_FOUND", error.Error.Code);
        var status = _engine.Unit("missing").Status();
        Assert.Equal(("failed", 0), (status.State, status.Restarts));
        Assert.Equal("COMMAND_NOT_FOUND", status.LastError!.Code);
        Assert.Equal(["starting", "failed"], _engine.EventsOf("missing").Where(e => e.Kind == "unit_state").Select(e => e.Payload.GetProperty("to").GetString()!).ToArray());
    }

    [Fact]
    public async Task WhenReady_waits_through_a_crash_and_its_backoff_until_the_unit_is_ready_again()
    {
        await _engine.RunAsync(UnitYaml.Bash("flaky", "sleep 300", "restart: { policy: always, backoff: { initial: 300ms } }"));
        var first = await _engine.WaitForStateAsync("flaky", "ready");
        var control = _engine.Unit("flaky").Context.Control;

        Core.Processes.LibC.kill(first.Pid!.Value, 9);
        await _engine.WaitForAsync("flaky", s => s.State != "ready", "the crash to be seen");
        await control.WhenReadyAsync(CancellationToken.None).WaitAsync(EngineFixture.Deadline);

        var again = _engine.Unit("flaky").Status();
        Assert.Equal("ready", again.State);
        Assert.NotEqual(first.Pid, again.Pid);
    }

    [Fact]
    public async Task WhenReady_right_after_a_restart_request_waits_for_the_new_process_not_the_old_one()
    {
        await _engine.RunAsync(UnitYaml.Bash("restarted", "sleep 300"));
        var first = await _engine.WaitForStateAsync("restarted", "ready");
        var control = _engine.Unit("restarted").Context.Control;

        for (var i = 0; i < 5; i++)
        {
            var before = _engine.Unit("restarted").Status().Pid;
            control.Restart("restart by a test");
            await control.WhenReadyAsync(CancellationToken.None).WaitAsync(EngineFixture.Deadline);
            var after = _engine.Unit("restarted").Status().Pid;
            Assert.NotEqual(before, after);
            Assert.False(EngineFixture.IsAlive(before!.Value));
        }

        Assert.NotEqual(first.Pid, _engine.Unit("restarted").Status().Pid);
    }
}
