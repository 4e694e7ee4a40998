using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;

namespace PluginHost.Core.Tests.Plugins;

/// <summary>A catalog over a private plugins folder, into which tests copy (and then change or break) built plugins.</summary>
internal sealed class PluginFixture : IAsyncDisposable
{
    private readonly TempDirectory _temp = new("plugins");

    public PluginFixture(int recentEvents = EventBus.DefaultRecentCapacity)
    {
        Events = new EventBus(recentEvents);
        Directory.CreateDirectory(PluginsRoot);
        Catalog = new PluginCatalog(_temp.Combine("shadow"), Events, TimeProvider.System, NullLogger<PluginCatalog>.Instance);
    }

    public EventBus Events { get; }

    public PluginCatalog Catalog { get; }

    public string PluginsRoot => _temp.Combine("plugins");

    public string ShadowRoot => _temp.Combine("shadow");

    /// <summary>Copies a built test plugin into the plugins folder; returns its folder there.</summary>
    public string Add(string testPlugin, string? asFolder = null) =>
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin(testPlugin), PluginsRoot, asFolder ?? testPlugin);

    /// <summary>Replaces a plugin folder's content with another build (a "new version" of it).</summary>
    public static void Overwrite(string folder, string testPlugin)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            File.Delete(file);
        }

        RepositoryLayout.CopyDirectory(RepositoryLayout.TestPlugin(testPlugin), folder);
    }

    /// <summary>Rewrites the version in plugin.yaml: a new build of the same code.</summary>
    public static void SetVersion(string folder, string version)
    {
        var path = Path.Combine(folder, PluginDescriptor.FileName);
        var lines = File.ReadAllLines(path).Select(l => l.StartsWith("version:", StringComparison.Ordinal) ? $"version: {version}" : l);
        File.WriteAllLines(path, lines);
    }

    public async ValueTask DisposeAsync()
    {
        await Catalog.DisposeAsync();
        _temp.Dispose();
    }
}
