namespace PluginHost.Contracts.Plugins;

/// <summary>
/// The entry point of a plugin assembly: exactly one public, non-abstract class with a public
/// parameterless constructor implements it. The host calls <see cref="Configure"/> once per load
/// and <see cref="IAsyncDisposable.DisposeAsync"/> before unloading; the plugin must then hold no
/// OS resource, timer or thread, so that its load context can be collected.
/// </summary>
public interface IPlugin : IAsyncDisposable
{
    void Configure(IPluginBuilder builder);

    ValueTask IAsyncDisposable.DisposeAsync() => ValueTask.CompletedTask;
}
