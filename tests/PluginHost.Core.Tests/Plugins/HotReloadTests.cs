using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text.Json;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using PluginHost.Core.Tests.TestDoubles;
using Xunit;

namespace PluginHost.Core.Tests.Plugins;

public sealed class HotReloadTests : IAsyncLifetime
{
    private readonly PluginFixture _plugins = new();
    private readonly List<ProcessUnit> _units = [];
    private string _folder = "";

    public async Task InitializeAsync()
    {
        _folder = _plugins.Add("sample");
        await _plugins.Catalog.LoadDirectoriesAsync([_plugins.PluginsRoot], CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (var unit in _units)
        {
            unit.Dispose();
        }

        await _plugins.DisposeAsync();
    }

    private ProcessUnit[] RunUnits(params string[] specs)
    {
        var units = specs.Select((spec, i) => new ProcessUnit($"unit-{i}", "sample", _plugins.Catalog.FindDriver("sample")!, spec)).ToArray();
        _units.AddRange(units);
        _plugins.Catalog.AttachUnits(new ProcessUnits(units));
        return units;
    }

    private static async Task<string> Version(IUnitDriver? driver) =>
        (await driver!.InvokeAsync(null!, "version", default, CancellationToken.None)).Message;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(IUnitDriver? driver) => new(AssemblyLoadContext.GetLoadContext(driver!.GetType().Assembly));

    [Fact]
    public async Task A_reload_hands_running_units_to_the_new_version_and_leaves_their_processes_alone()
    {
        var units = RunUnits("message: a", "message: b");
        var pids = units.Select(u => u.Process!.Pid).ToArray();
        var oldContext = ContextOf(units[0].Driver);
        PluginFixture.SetVersion(_folder, "1.1.0");

        var outcome = await _plugins.Catalog.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(("1.0.0", "1.1.0", 2, 0), (outcome.FromVersion, outcome.ToVersion, outcome.UnitsHandedOver, outcome.UnitsRestarted));
        Assert.Equal(pids, units.Select(u => u.Process!.Pid));
        Assert.All(units, u => Assert.True(u.IsAlive));
        Assert.All(units, u => Assert.Equal(0, u.Restarts));
        Assert.Equal("1.1.0", await Version(units[0].Driver));
        Assert.Same(_plugins.Catalog.FindDriver("sample"), units[1].Driver);
        Assert.True(outcome.OldVersionCollected);
        Assert.False(oldContext.IsAlive);
        var kinds = _plugins.Events.Recent().Select(e => e.Kind).ToArray();
        Assert.Equal(2, kinds.Count(k => k == HostEventKinds.UnitHandedOver));
        Assert.Contains(HostEventKinds.PluginUnloaded, kinds);
        var reloaded = Assert.Single(_plugins.Events.Recent(), e => e.Kind == HostEventKinds.PluginReloaded);
        Assert.Equal("1.1.0", reloaded.Payload.GetProperty("to").GetString());
    }

    [Fact]
    public async Task A_new_version_that_refuses_a_process_gets_that_unit_restarted_with_it()
    {
        var units = RunUnits("message: keep", "{ message: refuse, refuseAttach: true }");
        PluginFixture.SetVersion(_folder, "1.1.0");

        var outcome = await _plugins.Catalog.ReloadAsync("sample", CancellationToken.None);

        Assert.Equal((1, 1), (outcome.UnitsHandedOver, outcome.UnitsRestarted));
        Assert.Equal((0, 1), (units[0].Restarts, units[1].Restarts));
        Assert.Equal("1.1.0", await Version(units[1].Driver));
    }

    [Theory]
    [InlineData("throwing", "PLUGIN_ENTRY_POINT_FAILED", "the database of widgets is not configured")]
    [InlineData("incompatible", "PLUGIN_INCOMPATIBLE_CONTRACTS", "built against PluginHost.Contracts 2.0")]
    [InlineData("garbage", "PLUGIN_NOT_DOT_NET_ASSEMBLY", "is not a .NET assembly")]
    public async Task A_broken_new_build_leaves_the_old_version_running_and_says_why(string build, string code, string reason)
    {
        var units = RunUnits("message: a");
        var driverBefore = units[0].Driver;
        if (build == "garbage")
        {
            File.WriteAllText(Path.Combine(_folder, "TestPlugins.Sample.dll"), "half-written build output");
        }
        else
        {
            PluginFixture.Overwrite(_folder, build);
        }

        var outcome = await _plugins.Catalog.ReloadAsync("sample", CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Contains(reason, outcome.Error, StringComparison.Ordinal);
        Assert.Same(driverBefore, units[0].Driver);
        Assert.Same(driverBefore, _plugins.Catalog.FindDriver("sample"));
        Assert.Equal("1.0.0", await Version(_plugins.Catalog.FindDriver("sample")));
        Assert.True(units[0].IsAlive);
        var status = Assert.Single(_plugins.Catalog.List());
        Assert.Equal((PluginLoadState.Loaded, "1.0.0"), (status.State, status.Version));
        Assert.StartsWith("last reload failed: ", status.Error, StringComparison.Ordinal);
        var failed = Assert.Single(_plugins.Events.Recent(), e => e.Kind == HostEventKinds.PluginReloadFailed);
        Assert.Equal(code, failed.Payload.GetProperty("code").GetString());
        Assert.Equal("1.0.0", failed.Payload.GetProperty("running").GetString());
    }

    [Fact]
    public async Task A_new_version_that_drops_a_kind_in_use_is_refused()
    {
        var units = RunUnits("message: a");
        PluginFixture.Overwrite(_folder, "versioned-a");

        var outcome = await _plugins.Catalog.ReloadAsync("sample", CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Contains("no longer provides kinds used by running units: unit-0 (sample)", outcome.Error, StringComparison.Ordinal);
        Assert.Equal("1.0.0", await Version(units[0].Driver));
        Assert.Equal(["sample"], _plugins.Catalog.List().Select(p => p.Name));
    }

    [Fact]
    public async Task Serializer_caches_that_saw_plugin_types_are_cleared_so_the_old_version_is_collected()
    {
        var units = RunUnits("message: a");
        using var arguments = JsonDocument.Parse("""{"text":"hello"}""");
        var echo = await units[0].Driver!.InvokeAsync(units[0].Context, "echo", arguments.RootElement, CancellationToken.None);
        Assert.Equal("""{"Text":"hello","Version":"1.0.0"}""", echo.Message);

        var outcome = await _plugins.Catalog.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.OldVersionCollected, "System.Text.Json's caches kept the old plugin alive");
    }

    [Fact]
    public async Task A_plugin_using_generated_compiled_and_cached_Regex_is_collected_after_a_reload()
    {
        var units = RunUnits("message: a");
        using var arguments = JsonDocument.Parse("""{"text":"abc-42"}""");
        var match = await units[0].Driver!.InvokeAsync(units[0].Context, "match", arguments.RootElement, CancellationToken.None);
        Assert.Equal("generated=True compiled=False cached=True", match.Message);

        var outcome = await _plugins.Catalog.ReloadAsync("sample", CancellationToken.None);

        Assert.True(outcome.OldVersionCollected, "a Regex kept the old plugin alive");
    }

    [Fact]
    public async Task A_plugin_that_leaks_is_reported_by_name()
    {
        var leaky = _plugins.Add("leaky");
        var loaded = await _plugins.Catalog.LoadOrReloadAsync(leaky, CancellationToken.None);
        Assert.True(loaded.Succeeded, loaded.Error);

        var outcome = await _plugins.Catalog.ReloadAsync("leaky", CancellationToken.None);

        Assert.True(outcome.Succeeded);
        Assert.False(outcome.OldVersionCollected);
        var leak = Assert.Single(_plugins.Events.Recent(), e => e.Kind == HostEventKinds.PluginUnloadLeak);
        Assert.Equal("leaky", leak.Payload.GetProperty("plugin").GetString());
        Assert.Contains("event subscription", leak.Payload.GetProperty("hint").GetString(), StringComparison.Ordinal);
    }
}
