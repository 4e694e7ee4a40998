namespace PluginHost.Contracts.Plugins;

public interface IPlugin
{
    void Configure(object builder);
}
