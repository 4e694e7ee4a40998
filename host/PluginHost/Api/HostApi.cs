using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PluginHost.Core.Hosting;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;

namespace PluginHost.Api;

/// <summary>
/// The first routes of the HTTP API (DESIGN.md §7): health, plugins (list, reload), units as
/// configured, recent events. Unit control arrives with the supervision engine.
/// </summary>
internal static class HostApi
{
    public static void Map(WebApplication app, HostSetup setup, ManifestWatcher manifests)
    {
        app.MapGet("/api/health", () => Results.Ok(new { status = "ok", version = typeof(HostApi).Assembly.GetName().Version?.ToString(3) }));

        app.MapGet("/api/plugins", () => Results.Ok(setup.Plugins.List().Select(PluginView.From)));

        app.MapPost("/api/plugins/{name}/reload", async (string name, CancellationToken cancellationToken) =>
        {
            var outcome = await setup.Plugins.ReloadAsync(name, cancellationToken).ConfigureAwait(false);
            return outcome.Succeeded
                ? Results.Ok(new { success = true, message = $"{outcome.Plugin} {outcome.FromVersion} -> {outcome.ToVersion} in {outcome.Latency.TotalMilliseconds:F1} ms", outcome.UnitsHandedOver, outcome.UnitsRestarted })
                : Results.Problem(title: "Plugin reload failed", detail: outcome.Error, statusCode: StatusCodes.Status409Conflict);
        });

        app.MapGet("/api/units", () => Results.Ok(manifests.Current.StartOrder.Select(n => UnitView.From(manifests.Current.Units[n], setup.Plugins))));

        app.MapGet("/api/events", () => Results.Ok(setup.Events.Recent()));
    }

    private sealed record PluginView(string Name, string? Version, string? Contracts, IReadOnlyList<string> Kinds, string State, int Generation, string? Error, string? Remedy)
    {
        public static PluginView From(PluginStatus status) => new(status.Name, status.Version, status.ContractsVersion?.ToString(), status.Kinds,
            status.State.ToString().ToLowerInvariant(), status.Generation, status.Error, status.Remedy);
    }

    private sealed record UnitView(string Name, string Kind, string State, bool Enabled, bool Autostart, string File, PluginRef? Plugin)
    {
        public static UnitView From(UnitManifest unit, PluginCatalog plugins)
        {
            var plugin = plugins.PluginOfKind(unit.Kind);
            return new(unit.Name, unit.Kind, "idle", unit.Enabled, unit.Autostart, unit.File,
                plugin is null ? null : new PluginRef(plugin.Name, plugin.Descriptor.Version));
        }
    }

    private sealed record PluginRef(string Name, string Version);
}
