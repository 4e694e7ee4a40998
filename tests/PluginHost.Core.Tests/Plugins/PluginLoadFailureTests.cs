using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using Xunit;

namespace PluginHost.Core.Tests.Plugins;

/// <summary>Every way a plugin folder can be wrong gives a coded reason and a remedy, and loads nothing.</summary>
public sealed class PluginLoadFailureTests : IAsyncLifetime
{
    private readonly PluginFixture _plugins = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _plugins.DisposeAsync();

    private async Task<PluginStatus> LoadSingleAsync()
    {
        await _plugins.Catalog.LoadDirectoriesAsync([_plugins.PluginsRoot], CancellationToken.None);
        return Assert.Single(_plugins.Catalog.List());
    }

    private PluginHost.Contracts.Events.HostEvent FailureEvent() => Assert.Single(_plugins.Events.Recent(), e => e.Kind == HostEventKinds.PluginLoadFailed);

    [Fact]
    public async Task An_entry_point_that_throws_is_reported_with_its_exception()
    {
        _plugins.Add("throwing");

        var status = await LoadSingleAsync();

        Assert.Equal(PluginLoadState.Failed, status.State);
        Assert.Contains("its entry point failed: InvalidOperationException: the database of widgets is not configured", status.Error, StringComparison.Ordinal);
        Assert.Contains("Configure", status.Remedy, StringComparison.Ordinal);
        Assert.Equal("PLUGIN_ENTRY_POINT_FAILED", FailureEvent().Payload.GetProperty("code").GetString());
        Assert.Null(_plugins.Catalog.FindDriver("sample"));
    }

    [Fact]
    public async Task A_missing_dependency_is_named()
    {
        var folder = _plugins.Add("versioned-a");
        File.Delete(Path.Combine(folder, "TestSharedLib.dll"));

        var status = await LoadSingleAsync();

        Assert.Equal(PluginLoadState.Failed, status.State);
        Assert.Contains("a dependency could not be loaded", status.Error, StringComparison.Ordinal);
        Assert.Contains("TestSharedLib", status.Error, StringComparison.Ordinal);
        Assert.Equal("PLUGIN_MISSING_DEPENDENCY", FailureEvent().Payload.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_plugin_built_against_another_contracts_major_is_refused_before_any_of_its_code_runs()
    {
        _plugins.Add("incompatible");

        var status = await LoadSingleAsync();

        Assert.Equal(PluginLoadState.Failed, status.State);
        Assert.Equal("plugin \"sample\" 2.0.0 was built against PluginHost.Contracts 2.0, and this host provides 1.7", status.Error);
        Assert.Equal("Rebuild the plugin against PluginHost.Contracts 1.x, or run a host whose contracts major version is 2.", status.Remedy);
        Assert.Equal("PLUGIN_INCOMPATIBLE_CONTRACTS", FailureEvent().Payload.GetProperty("code").GetString());
        Assert.Null(AppDomain.CurrentDomain.GetData("TestPlugins.Incompatible.ran")); // its module initializer would have set it
    }

    [Fact]
    public async Task A_file_that_is_not_a_dotnet_assembly_is_refused()
    {
        var folder = _plugins.Add("sample");
        File.WriteAllBytes(Path.Combine(folder, "TestPlugins.Sample.dll"), [0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3, 4]);

        var status = await LoadSingleAsync();

        Assert.Equal("plugin \"sample\": TestPlugins.Sample.dll is not a .NET assembly", status.Error);
    }

    [Fact]
    public async Task A_missing_assembly_says_to_build_the_plugin()
    {
        var folder = _plugins.Add("sample");
        File.Delete(Path.Combine(folder, "TestPlugins.Sample.dll"));

        var status = await LoadSingleAsync();

        Assert.Contains("is not in", status.Error, StringComparison.Ordinal);
        Assert.Contains("dotnet build", status.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_plugin_yaml_is_reported_with_positions()
    {
        var folder = _plugins.Add("sample");
        File.WriteAllText(Path.Combine(folder, "plugin.yaml"), "name: sample\nversion: 1.0.0\ncontracts: one\nassembly: TestPlugins.Sample.dll\nkinds: [sample]\nkindz: []\n");

        var status = await LoadSingleAsync();

        Assert.Contains("plugin.yaml:3:12: contracts", status.Error, StringComparison.Ordinal);
        Assert.Contains("plugin.yaml:6:1: kindz", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kinds_declared_in_plugin_yaml_must_be_the_kinds_registered()
    {
        var folder = _plugins.Add("sample");
        File.WriteAllText(Path.Combine(folder, "plugin.yaml"), "name: sample\nversion: 1.0.0\ncontracts: \"1.7\"\nassembly: TestPlugins.Sample.dll\nkinds: [sample, extra]\n");

        var status = await LoadSingleAsync();

        Assert.Equal("plugin \"sample\": plugin.yaml declares kinds [extra, sample] but the plugin registers [sample]", status.Error);
    }

    [Fact]
    public async Task Two_plugins_cannot_provide_the_same_kind()
    {
        _plugins.Add("sample", "first");
        var second = _plugins.Add("sample", "second");
        File.WriteAllText(Path.Combine(second, "plugin.yaml"), "name: other\nversion: 1.0.0\ncontracts: \"1.7\"\nassembly: TestPlugins.Sample.dll\nkinds: [sample]\n");

        await _plugins.Catalog.LoadDirectoriesAsync([_plugins.PluginsRoot], CancellationToken.None);

        var failed = Assert.Single(_plugins.Catalog.List(), p => p.State == PluginLoadState.Failed);
        Assert.Equal("other", failed.Name);
        Assert.Contains("unit kind \"sample\" is already provided by plugin \"sample\"", failed.Error, StringComparison.Ordinal);
        Assert.NotNull(_plugins.Catalog.FindDriver("sample"));
    }
}
