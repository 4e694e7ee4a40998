using System.Runtime.Loader;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;
using PluginHost.Core.Plugins;
using Xunit;

namespace PluginHost.Core.Tests.Plugins;

public sealed class PluginIsolationTests : IAsyncLifetime
{
    private readonly PluginFixture _plugins = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _plugins.DisposeAsync();

    private static async Task<string> LibraryOf(IUnitDriver driver) =>
        (await driver.InvokeAsync(null!, "library", default, CancellationToken.None)).Message;

    [Fact]
    public async Task Two_plugins_depending_on_different_versions_of_one_library_each_use_their_own()
    {
        _plugins.Add("versioned-a");
        _plugins.Add("versioned-b");

        await _plugins.Catalog.LoadDirectoriesAsync([_plugins.PluginsRoot], CancellationToken.None);

        Assert.All(_plugins.Catalog.List(), p => Assert.True(p.State == PluginLoadState.Loaded, p.Error));
        var a = await LibraryOf(_plugins.Catalog.FindDriver("versioned-a")!);
        var b = await LibraryOf(_plugins.Catalog.FindDriver("versioned-b")!);
        Assert.StartsWith("1.0.0.0 v1 " + _plugins.ShadowRoot, a, StringComparison.Ordinal);
        Assert.StartsWith("2.0.0.0 v2 " + _plugins.ShadowRoot, b, StringComparison.Ordinal);
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, x => x.GetName().Name == "TestSharedLib");
    }

    [Fact]
    public async Task Only_the_contracts_come_from_the_default_context()
    {
        _plugins.Add("sample");
        await _plugins.Catalog.LoadDirectoriesAsync([_plugins.PluginsRoot], CancellationToken.None);

        var driver = _plugins.Catalog.FindDriver("sample")!;
        var context = AssemblyLoadContext.GetLoadContext(driver.GetType().Assembly)!;

        Assert.IsType<PluginLoadContext>(context);
        Assert.True(context.IsCollectible);
        Assert.Same(typeof(IPlugin).Assembly, driver.GetType().GetInterface(nameof(IUnitDriver))!.Assembly);
        Assert.DoesNotContain(context.Assemblies, a => a.GetName().Name is "PluginHost.Contracts" or "Microsoft.Extensions.Logging.Abstractions");
    }

    [Fact]
    public async Task A_plugin_runs_from_a_shadow_copy_so_its_folder_can_be_rebuilt_meanwhile()
    {
        var folder = _plugins.Add("sample");
        await _plugins.Catalog.LoadDirectoriesAsync([_plugins.PluginsRoot], CancellationToken.None);

        var location = _plugins.Catalog.FindDriver("sample")!.GetType().Assembly.Location;
        Directory.Delete(folder, recursive: true);

        Assert.StartsWith(_plugins.ShadowRoot, location, StringComparison.Ordinal);
        Assert.True(File.Exists(location));
        Assert.Equal("1.0.0", (await _plugins.Catalog.FindDriver("sample")!.InvokeAsync(null!, "version", default, CancellationToken.None)).Message);
    }
}
