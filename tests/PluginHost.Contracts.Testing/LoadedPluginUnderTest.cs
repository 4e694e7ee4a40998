using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// A built plugin loaded the way the host loads it (shadow copy, own collectible context), for
/// tests that call its drivers. Dispose unloads it.
/// </summary>
public sealed class LoadedPluginUnderTest : IAsyncDisposable
{
    private readonly TempDirectory _temp;
    private readonly PluginCatalog _catalog;

    private LoadedPluginUnderTest(TempDirectory temp, PluginCatalog catalog)
    {
        _temp = temp;
        _catalog = catalog;
    }

    public static async Task<LoadedPluginUnderTest> LoadAsync(string pluginFolder)
    {
        var temp = new TempDirectory("plugin-under-test");
        RepositoryLayout.CopyPlugin(pluginFolder, temp.Combine("plugins"));
        var catalog = new PluginCatalog(temp.Combine("shadow"), new EventBus(), TimeProvider.System, NullLogger<PluginCatalog>.Instance);
        await catalog.LoadDirectoriesAsync([temp.Combine("plugins")], CancellationToken.None).ConfigureAwait(false);
        var failed = catalog.List().FirstOrDefault(p => p.State != PluginLoadState.Loaded);
        if (failed is not null)
        {
            await catalog.DisposeAsync().ConfigureAwait(false);
            temp.Dispose();
            throw new InvalidOperationException($"plugin {failed.Name} did not load: {failed.Error} {failed.Remedy}");
        }

        return new LoadedPluginUnderTest(temp, catalog);
    }

    public IUnitDriver Driver(string kind) => _catalog.FindDriver(kind) ?? throw new InvalidOperationException($"no kind {kind}");

    public async ValueTask DisposeAsync()
    {
        await _catalog.DisposeAsync().ConfigureAwait(false);
        _temp.Dispose();
    }
}
