using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using Xunit;

namespace PluginHost.Core.Tests.Plugins;

public sealed class PluginWatcherTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly PluginFixture _plugins = new();
    private PluginWatcher _watcher = null!;
    private string _folder = "";

    public async Task InitializeAsync()
    {
        _folder = _plugins.Add("sample");
        await _plugins.Catalog.LoadDirectoriesAsync([_plugins.PluginsRoot], CancellationToken.None);
        _watcher = new PluginWatcher(_plugins.Catalog, [_plugins.PluginsRoot], TimeSpan.FromMilliseconds(100), TimeProvider.System, NullLogger<PluginWatcher>.Instance);
    }

    public async Task DisposeAsync()
    {
        _watcher.Dispose();
        await _watcher.Idle;
        await _plugins.DisposeAsync();
    }

    [Fact]
    public async Task A_rebuilt_plugin_is_reloaded_once_its_folder_is_quiet()
    {
        PluginFixture.SetVersion(_folder, "2.0.0");

        await Eventually.TrueAsync(() => _plugins.Catalog.Find("sample")?.Descriptor.Version == "2.0.0", Deadline, "the new version to be loaded");
        await _watcher.Idle;
        Assert.Single(_plugins.Events.Recent(), e => e.Kind == HostEventKinds.PluginReloaded);
    }

    [Fact]
    public async Task A_broken_build_written_into_the_folder_keeps_the_old_version()
    {
        PluginFixture.Overwrite(_folder, "throwing");

        await Eventually.TrueAsync(() => _plugins.Events.Recent().Any(e => e.Kind == HostEventKinds.PluginReloadFailed), Deadline, "the reload to fail");
        Assert.Equal("1.0.0", _plugins.Catalog.Find("sample")!.Descriptor.Version);
        Assert.NotNull(_plugins.Catalog.FindDriver("sample"));
    }

    [Fact]
    public async Task A_new_plugin_folder_is_loaded()
    {
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("versioned-b"), _plugins.PluginsRoot);

        await Eventually.TrueAsync(() => _plugins.Catalog.FindDriver("versioned-b") is not null, Deadline, "the new plugin to be loaded");
    }
}
