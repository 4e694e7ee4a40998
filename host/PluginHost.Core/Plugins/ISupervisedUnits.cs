using PluginHost.Contracts.Units;

namespace PluginHost.Core.Plugins;

/// <summary>
/// The seam between plugin reload and supervision: during a hot reload the catalog asks for the
/// units of the reloaded plugin's kinds and hands each one to the new version's driver.
/// </summary>
internal interface ISupervisedUnits
{
    IReadOnlyList<ISupervisedUnit> UnitsOfKinds(IReadOnlySet<string> kinds);
}

/// <summary>A unit as the reload sees it. The unit must always ask for its current driver, never cache an old one.</summary>
internal interface ISupervisedUnit
{
    string Name { get; }

    string Kind { get; }

    /// <summary>A context for the driver's <see cref="IUnitDriver.AttachAsync"/> call.</summary>
    IUnitContext Context { get; }

    /// <summary>The running process, or null when the unit runs nothing now.</summary>
    RunningProcess? Process { get; }

    /// <summary>From now on the unit uses <paramref name="driver"/>; its process keeps running.</summary>
    void UseDriver(IUnitDriver driver);

    /// <summary>The new driver refused to adopt the process: stop it and start again with <paramref name="driver"/>.</summary>
    ValueTask RestartWithAsync(IUnitDriver driver, string reason, CancellationToken cancellationToken);
}
