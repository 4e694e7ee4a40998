using PluginHost.Contracts.Plugins;

namespace TestPlugins.Throwing;

/// <summary>Named like the sample plugin so that it can stand in as a broken new build of it.</summary>
public sealed class ThrowingPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder) => throw new InvalidOperationException("the database of widgets is not configured");
}
