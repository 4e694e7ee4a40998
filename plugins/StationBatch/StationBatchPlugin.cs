using NetMQ;
using PluginHost.Contracts.Plugins;

namespace PluginHost.Plugins.StationBatch;

/// <summary>The <c>station-batch</c> and <c>station-sync</c> unit kinds (docs/station.md).</summary>
public sealed class StationBatchPlugin : IPlugin
{
    private StationBatchDriver? _driver;

    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _driver = new StationBatchDriver();
        var sync = new Sync.StationSyncDriver();
        builder.AddUnitKind(StationBatchDriver.Kind, _driver);
        builder.AddUnitKind(Sync.StationSyncDriver.Kind, sync);
        builder.AddDashboardPanel();
        builder.AddRoutes(new Api.StationApi(_driver, sync, builder.Plugin.Version));
    }

    /// <summary>Closes every master socket and ends NetMQ's own threads, so that this version's load context can be collected.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_driver is not null)
        {
            await _driver.DisposeAsync().ConfigureAwait(false);
        }

        NetMQConfig.Cleanup(block: false);
    }
}
