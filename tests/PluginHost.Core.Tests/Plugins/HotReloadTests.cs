using System.Text.Json;
using PluginHost.Contracts.Operations;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using PluginHost.Core.Supervision;
using PluginHost.Core.Tests.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Plugins;

/// <summary>
/// Hot reloads through the real engine: units run by <see cref="UnitSupervisor"/> on the sample
/// plugin's driver, a new build of the plugin put into the engine's plugins folder, the catalog's
/// reload handing the running units over (or, when the new version refuses, restarting them).
/// </summary>
public sealed class HotReloadTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    private string SampleFolder => _engine.PluginFolder("sample");

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    /// <summary>Runs sample units (one per spec, named unit-0, unit-1, …) and waits until each runs its process.</summary>
    private async Task<UnitSupervisor[]> RunUnitsAsync(params string[] specs)
    {
        await _engine.RunAsync([.. specs.Select((spec, i) => $"apiVersion: pluginhost/v1\nkind: sample\nname: unit-{i}\nspec: {spec}\n")]);
        foreach (var i in Enumerable.Range(0, specs.Length))
        {
            await _engine.WaitForStateAsync($"unit-{i}", "ready");
        }

        return [.. specs.Select((_, i) => _engine.Unit($"unit-{i}"))];
    }

    /// <summary>Runs one of the sample's operations the way the API does: through the unit, on its current driver.</summary>
    internal static async Task<OperationResult> InvokeAsync(UnitSupervisor unit, string operation, string arguments = "{}")
    {
        using var json = JsonDocument.Parse(arguments);
        return await unit.InvokeAsync(unit.Operations().Single(o => o.Name == operation), json.RootElement, CancellationToken.None);
    }

    private static async Task<string> VersionAsync(UnitSupervisor unit) => (await InvokeAsync(unit, "version")).Message;

    [Fact]
    public async Task A_reload_hands_running_units_to_the_new_version_and_leaves_their_processes_alone()
    {
        var units = await RunUnitsAsync("{ message: a }", "{ message: b }");
        var before = units.Select(u => u.Status()).ToArray();
        PluginFixture.SetVersion(SampleFolder, "1.1.0");

        var outcome = await _engine.Plugins.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(("1.0.0", "1.1.0", 2, 0), (outcome.FromVersion, outcome.ToVersion, outcome.UnitsHandedOver, outcome.UnitsRestarted));
        var after = units.Select(u => u.Status()).ToArray();
        Assert.Equal(before.Select(s => (s.Pid, s.StartedAt)), after.Select(s => (s.Pid, s.StartedAt)));
        Assert.All(after, s => Assert.Equal(("ready", 0, "1.1.0"), (s.State, s.Restarts, s.Plugin?.Version)));
        Assert.All(after, s => Assert.True(EngineFixture.IsAlive(s.Pid!.Value)));
        Assert.Equal("1.1.0", await VersionAsync(units[0]));
        Assert.Equal("1.1.0", await VersionAsync(units[1]));
        Assert.True(outcome.OldVersionCollected, "the units kept the old version alive");
        var kinds = _engine.Events.Recent().Select(e => e.Kind).ToArray();
        Assert.Equal(2, kinds.Count(k => k == HostEventKinds.UnitHandedOver));
        Assert.Contains(HostEventKinds.PluginUnloaded, kinds);
        var reloaded = Assert.Single(_engine.Events.Recent(), e => e.Kind == HostEventKinds.PluginReloaded);
        Assert.Equal("1.1.0", reloaded.Payload.GetProperty("to").GetString());
    }

    [Fact]
    public async Task A_new_version_that_refuses_a_process_gets_that_unit_restarted_with_it()
    {
        var units = await RunUnitsAsync("{ message: keep }", "{ message: refuse, refuseAttach: true }");
        var kept = units[0].Status();
        var refusedPid = units[1].Status().Pid!.Value;
        PluginFixture.SetVersion(SampleFolder, "1.1.0");

        var outcome = await _engine.Plugins.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal((1, 1), (outcome.UnitsHandedOver, outcome.UnitsRestarted));
        var restarted = await _engine.WaitForAsync("unit-1", s => s.State == "ready" && s.Pid != refusedPid, "unit-1 to run a new process");
        Assert.Equal("1.1.0", restarted.Plugin?.Version);
        Assert.Equal("1.1.0", await VersionAsync(units[1]));
        Assert.False(EngineFixture.IsAlive(refusedPid), "the refused process was left running");
        Assert.Contains(_engine.EventsOf("unit-1"), e => e.Kind == "unit_state"
            && e.Payload.GetProperty("reason").GetString() == $"plugin reload: version 1.1.0 cannot adopt pid {refusedPid}");
        var stillKept = units[0].Status();
        Assert.Equal((kept.Pid, kept.StartedAt, "ready"), (stillKept.Pid, stillKept.StartedAt, stillKept.State));
        Assert.True(outcome.OldVersionCollected, "the restarted unit kept the old version alive");
    }

    [Theory]
    [InlineData("throwing", "PLUGIN_ENTRY_POINT_FAILED", "the database of widgets is not configured")]
    [InlineData("incompatible", "PLUGIN_INCOMPATIBLE_CONTRACTS", "built against PluginHost.Contracts 2.0")]
    [InlineData("garbage", "PLUGIN_NOT_DOT_NET_ASSEMBLY", "is not a .NET assembly")]
    public async Task A_broken_new_build_leaves_the_old_version_running_and_says_why(string build, string code, string reason)
    {
        var units = await RunUnitsAsync("{ message: a }");
        var before = units[0].Status();
        if (build == "garbage")
        {
            File.WriteAllText(Path.Combine(SampleFolder, "TestPlugins.Sample.dll"), "half-written build output");
        }
        else
        {
            PluginFixture.Overwrite(SampleFolder, build);
        }

        var outcome = await _engine.Plugins.ReloadAsync("sample", CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Contains(reason, outcome.Error, StringComparison.Ordinal);
        Assert.Equal("1.0.0", await VersionAsync(units[0]));
        var after = units[0].Status();
        Assert.Equal((before.Pid, "ready", "1.0.0"), (after.Pid, after.State, after.Plugin?.Version));
        var status = Assert.Single(_engine.Plugins.List(), p => p.Name == "sample");
        Assert.Equal((PluginLoadState.Loaded, "1.0.0"), (status.State, status.Version));
        Assert.StartsWith("last reload failed: ", status.Error, StringComparison.Ordinal);
        var failed = Assert.Single(_engine.Events.Recent(), e => e.Kind == HostEventKinds.PluginReloadFailed);
        Assert.Equal(code, failed.Payload.GetProperty("code").GetString());
        Assert.Equal("1.0.0", failed.Payload.GetProperty("running").GetString());
    }

    [Fact]
    public async Task A_new_version_that_drops_a_kind_in_use_is_refused()
    {
        var units = await RunUnitsAsync("{ message: a }");
        PluginFixture.Overwrite(SampleFolder, "versioned-a");

        var outcome = await _engine.Plugins.ReloadAsync("sample", CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Contains("no longer provides kinds used by running units: unit-0 (sample)", outcome.Error, StringComparison.Ordinal);
        Assert.Equal("1.0.0", await VersionAsync(units[0]));
        Assert.Contains("sample", _engine.Plugins.List().Select(p => p.Name));
    }

    [Fact]
    public async Task Serializer_caches_that_saw_plugin_types_are_cleared_so_the_old_version_is_collected()
    {
        var units = await RunUnitsAsync("{ message: a }");
        var echo = await InvokeAsync(units[0], "echo", """{"text":"hello"}""");
        Assert.Equal("""{"Text":"hello","Version":"1.0.0"}""", echo.Message);

        var outcome = await _engine.Plugins.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.OldVersionCollected, "System.Text.Json's caches kept the old plugin alive");
    }

    [Fact]
    public async Task A_plugin_using_generated_compiled_and_cached_Regex_is_collected_after_a_reload()
    {
        var units = await RunUnitsAsync("{ message: a }");
        var match = await InvokeAsync(units[0], "match", """{"text":"abc-42"}""");
        Assert.Equal("generated=True compiled=False cached=True", match.Message);

        var outcome = await _engine.Plugins.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.OldVersionCollected, "a Regex kept the old plugin alive");
    }

    [Fact]
    public async Task A_plugin_that_leaks_is_reported_by_name()
    {
        var leaky = Contracts.Testing.RepositoryLayout.CopyPlugin(Contracts.Testing.RepositoryLayout.TestPlugin("leaky"), Path.GetDirectoryName(SampleFolder)!);
        var loaded = await _engine.Plugins.LoadOrReloadAsync(leaky, CancellationToken.None);
        Assert.True(loaded.Succeeded, loaded.Error);

        var outcome = await _engine.Plugins.ReloadAsync("leaky", CancellationToken.None);

        Assert.True(outcome.Succeeded);
        Assert.False(outcome.OldVersionCollected);
        var leak = Assert.Single(_engine.Events.Recent(), e => e.Kind == HostEventKinds.PluginUnloadLeak);
        Assert.Equal("leaky", leak.Payload.GetProperty("plugin").GetString());
        Assert.Contains("event subscription", leak.Payload.GetProperty("hint").GetString(), StringComparison.Ordinal);
    }
}
