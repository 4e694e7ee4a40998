using PluginHost.Contracts.Plugins;

namespace Acme.Sample;

/// <summary>The plugin's entry point: the host (or a station worker) makes one and asks it what it provides.</summary>
public sealed class AcmeSamplePlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
#if (unitKind)
        builder.AddUnitKind(AcmeSampleDriver.Kind, new AcmeSampleDriver());
#else
        builder.AddEquipmentDriver("acme-sample", () => new AcmeSampleInstrument());
#endif
    }
}
