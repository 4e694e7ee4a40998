using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>autostart: optional — started with the host when the machine allows; otherwise stopped with the reason, not failed.</summary>
public sealed class OptionalAutostartTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private static string Unit(string name, string command) =>
        $"apiVersion: pluginhost/v1\nkind: process\nname: {name}\nautostart: optional\nspec: {{ command: {command} }}\n";

    [Fact]
    public async Task An_optional_unit_the_machine_cannot_run_is_stopped_with_the_reason_and_an_operators_start_fails_it()
    {
        await _engine.RunAsync(Unit("needy", "/no/such/program"));

        var needy = await _engine.WaitForStateAsync("needy", "stopped");

        Assert.Equal("COMMAND_NOT_FOUND", needy.LastError?.Code);
        Assert.StartsWith("not started with the host (autostart: optional)", needy.Reason, StringComparison.Ordinal);
        _engine.Unit("needy").Start();
        var failed = await _engine.WaitForStateAsync("needy", "failed");
        Assert.Equal("COMMAND_NOT_FOUND", failed.LastError?.Code);
    }

    [Fact]
    public async Task An_optional_unit_that_can_run_starts_with_the_host_and_is_supervised_as_any()
    {
        await _engine.RunAsync(UnitYaml.Bash("able", "exec sleep 300", "autostart: optional\nrestart: always"));

        var ready = await _engine.WaitForStateAsync("able", "ready");
        Core.Processes.LibC.kill(ready.Pid!.Value, 9);

        await _engine.WaitForAsync("able", s => s.State == "ready" && s.Pid != ready.Pid, "a restart after the crash");
    }
}
