using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Events;
using PluginHost.Contracts.Specs;

namespace PluginHost.Contracts.Units;

/// <summary>What the host gives a driver about one unit. Valid only during the call it is passed to.</summary>
public interface IUnitContext
{
    string UnitName { get; }

    string Kind { get; }

    /// <summary>The folder of the unit's manifest: relative paths in a spec start here.</summary>
    string ManifestDirectory { get; }

    /// <summary>The unit's plugin-owned <c>spec</c> section.</summary>
    SpecMapping Spec { get; }

    /// <summary>The manifest's <c>env:</c> section (secrets included; never log it).</summary>
    IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Ports allocated for this start, by name.</summary>
    IReadOnlyDictionary<string, int> Ports { get; }

    /// <summary>A directory private to this unit that survives restarts (caches, state files).</summary>
    string DataDirectory { get; }

    /// <summary>
    /// (since 1.6) A directory shared by every unit of the plugin's kinds (<c>DATA/plugin-data/PLUGIN/</c>),
    /// that survives restarts and plugin reloads: for what a plugin keeps across its units (a
    /// station's results database, written by its batches and read by its sync sender). Created by
    /// the host when first asked for, private to it (0700), like <see cref="DataDirectory"/>.
    /// </summary>
    string PluginDataDirectory => Path.Combine(DataDirectory, "..", "..", "plugin-data", Kind);

    /// <summary>
    /// (since 1.7) True when the host's manifests hold a unit of that name with <c>enabled: true</c>
    /// (launchd's "job enabled", for KeepAlive's OtherJobEnabled).
    /// </summary>
    bool IsUnitEnabled(string unitName) => false;

    /// <summary>Every timeout and delay goes through this clock so tests can advance it.</summary>
    TimeProvider Time { get; }

    ILogger Logger { get; }

    IEventPublisher Events { get; }

    /// <summary>A small durable key/value store for this unit, kept across host restarts.</summary>
    IUnitStateBag State { get; }

    /// <summary>The unit's process when one runs.</summary>
    RunningProcess? Process { get; }

    /// <summary>The pseudo-terminal, when the launch plan asked for one and it runs.</summary>
    IUnitTerminal? Terminal { get; }

    /// <summary>Start, stop, restart this unit and wait for it to be ready (since contracts 1.2).</summary>
    IUnitControl Control { get; }

    /// <summary>The last <paramref name="maxLines"/> captured output lines, oldest first.</summary>
    IReadOnlyList<OutputLine> RecentOutput(int maxLines);
}
