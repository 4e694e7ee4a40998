using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Formats;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Manifests;
using PluginHost.Core.Supervision.Launch;
using PluginHost.Core.Units;

namespace PluginHost.Core.Formats;

/// <summary>
/// What a unit format is given to export a unit: the manifest's sections and the launch its driver
/// plans, offline — the manifest's preferred ports in place of allocated ones, nothing spawned.
/// </summary>
internal static class ExportPlanner
{
    public static async Task<ExportedUnit> PlanAsync(UnitManifest manifest, IUnitDriver driver, string dataDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(driver);
        // A unit's default working directory is its data folder: made as the host would make it, since the exported unit runs there.
        var unitData = Path.Combine(dataDirectory, "units", manifest.Name);
        Storage.PrivateFiles.CreateFolder(unitData);
        var context = new UnitContext(manifest, unitData, Path.Combine(dataDirectory, "plugin-data", manifest.Kind), TimeProvider.System,
            NullLogger.Instance, new EventPublisher(new EventBus(16), TimeProvider.System, manifest.Name, plugin: null), new MemoryStateBag())
        {
            Ports = manifest.Ports.ToDictionary(p => p.Name, p => p.Preferred, StringComparer.Ordinal),
        };
        LaunchPlan? plan = null;
        UnitError? error = null;
        try
        {
            var planned = await driver.PrepareAsync(context, cancellationToken).ConfigureAwait(false);
            var resolved = Placeholders.Resolve(planned, context);
            plan = planned with { Arguments = resolved.Arguments, Environment = resolved.Environment, WorkingDirectory = resolved.WorkingDirectory };
        }
        catch (UnitErrorException ex)
        {
            error = ex.Error;
        }

        return new ExportedUnit(manifest.Name, manifest.Kind, manifest.File, plan, manifest.Spec)
        {
            PlanError = error,
            Enabled = manifest.Enabled,
            Autostart = manifest.Autostart,
            After = manifest.After,
            Restart = manifest.Restart,
            Stop = plan?.Stop ?? manifest.Stop,
            Ports = context.Ports,
            HasHealthChecks = manifest.Health.Readiness is not null || manifest.Health.Liveness is not null,
            LogPath = Path.Combine(dataDirectory, "logs", manifest.Name + ".log"),
        };
    }
}
