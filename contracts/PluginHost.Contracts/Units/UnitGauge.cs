namespace PluginHost.Contracts.Units;

/// <summary>
/// A kind-specific measurement of a running unit, e.g. the GPU memory of an inference server. The
/// host shows it on the unit's status (<c>gauges: { name: value }</c>) and in <c>/metrics</c> as
/// <c>pluginhost_unit_{Name}</c>. <paramref name="Name"/> is a Prometheus name part with its unit:
/// lower case, digits and underscores, e.g. <c>gpu_memory_bytes</c>.
/// </summary>
public sealed record UnitGauge(string Name, double Value, string Help);
