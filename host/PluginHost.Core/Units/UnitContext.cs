using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Events;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;
using PluginHost.Core.Manifests;
using PluginHost.Core.Storage;

namespace PluginHost.Core.Units;

/// <summary>The host's <see cref="IUnitContext"/> for one unit: built from its manifest plus what the host allocated.</summary>
internal sealed class UnitContext(
    UnitManifest manifest,
    string dataDirectory,
    string pluginDataDirectory,
    TimeProvider time,
    ILogger logger,
    IEventPublisher events,
    IUnitStateBag state) : IUnitContext
{
    public string UnitName => manifest.Name;

    public string Kind => manifest.Kind;

    public string ManifestDirectory { get; } = Path.GetDirectoryName(Path.GetFullPath(manifest.File)) ?? ".";

    public SpecMapping Spec => manifest.Spec;

    public IReadOnlyDictionary<string, string> Environment { get; } =
        manifest.Env.ToDictionary(e => e.Key, e => e.Value.Value, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Ports { get; set; } = new Dictionary<string, int>();

    public string DataDirectory => dataDirectory;

    /// <summary>Made (0700) the first time a plugin asks for it: most kinds never do.</summary>
    public string PluginDataDirectory
    {
        get
        {
            PrivateFiles.CreateFolder(pluginDataDirectory);
            return pluginDataDirectory;
        }
    }

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    public IEventPublisher Events => events;

    public IUnitStateBag State => state;

    public RunningProcess? Process { get; set; }

    public IUnitTerminal? Terminal { get; set; }

    public IUnitControl Control { get; set; } = null!; // set by the unit's supervisor right after construction

    public Func<int, IReadOnlyList<OutputLine>> Output { get; set; } = _ => [];

    public IReadOnlyList<OutputLine> RecentOutput(int maxLines) => Output(maxLines);

    public Func<string, bool> UnitEnabled { get; set; } = _ => false;

    public bool IsUnitEnabled(string unitName) => UnitEnabled(unitName);
}
