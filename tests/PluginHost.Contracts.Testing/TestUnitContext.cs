using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Manifests;
using PluginHost.Core.Units;

namespace PluginHost.Contracts.Testing;

/// <summary>Builds the <see cref="IUnitContext"/> the host would hand a driver, from a spec written as YAML.</summary>
public static class TestUnitContext
{
    /// <param name="manifestDirectory">Where the unit's manifest would be (relative spec paths start there).</param>
    /// <param name="dataDirectory">The unit's data folder; created if missing.</param>
    public static IUnitContext Create(string kind, string specYaml, string manifestDirectory, string dataDirectory,
        IReadOnlyDictionary<string, string>? environment = null, IReadOnlyDictionary<string, int>? ports = null,
        TimeProvider? time = null, string name = "unit", IUnitControl? control = null)
    {
        Directory.CreateDirectory(dataDirectory);
        var manifest = new UnitManifest
        {
            Name = name,
            Kind = kind,
            File = Path.Combine(manifestDirectory, name + ".yaml"),
            Spec = SpecYaml.Parse(specYaml, Path.Combine(manifestDirectory, name + ".yaml")),
            Env = (environment ?? new Dictionary<string, string>()).ToDictionary(e => e.Key, e => new EnvValue(e.Value, Public: false), StringComparer.Ordinal),
            Fingerprint = "",
        };
        var clock = time ?? TimeProvider.System;
        // The plugin's shared folder inside the unit's, for a test (the host's is DATA/plugin-data/PLUGIN).
        return new UnitContext(manifest, dataDirectory, Path.Combine(dataDirectory, "plugin-data", kind), clock, NullLogger.Instance, new EventPublisher(new EventBus(), clock, name, null), new MemoryStateBag())
        {
            Ports = ports ?? new Dictionary<string, int>(),
            Control = control ?? new TestUnitControl(),
        };
    }
}
