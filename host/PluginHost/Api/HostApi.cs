using Microsoft.AspNetCore.Builder;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PluginHost.Contracts.Units;
using PluginHost.Core.Hosting;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Supervision;

namespace PluginHost.Api;

/// <summary>
/// The HTTP API (DESIGN.md §7): health, units (status, start/stop/restart, logs), plugins (list,
/// reload), recent events. Errors are application/problem+json.
/// </summary>
internal static class HostApi
{
    public static void Map(WebApplication app, HostSetup setup, Supervisor supervisor)
    {
        app.MapGet("/api/health", () =>
        {
            var gc = GC.GetGCMemoryInfo();
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            return Results.Ok(new
            {
                status = "ok",
                version = typeof(HostApi).Assembly.GetName().Version?.ToString(3),
                memory = new { rssBytes = self.WorkingSet64, managedHeapBytes = GC.GetTotalMemory(false), gcCommittedBytes = gc.TotalCommittedBytes },
                threads = self.Threads.Count,
            });
        });

        app.MapGet("/api/units", () => Results.Ok(supervisor.Statuses()));

        app.MapGet("/api/units/{name}", (string name) => WithUnit(supervisor, name, unit => Results.Ok(unit.Status())));

        app.MapPost("/api/units/{name}/start", (string name) => WithUnit(supervisor, name, unit => Answer(unit.Start())));
        app.MapPost("/api/units/{name}/stop", (string name) => WithUnit(supervisor, name, unit => Answer(unit.Stop())));
        app.MapPost("/api/units/{name}/restart", (string name) => WithUnit(supervisor, name, unit => Answer(unit.Restart())));

        app.MapGet("/api/units/{name}/logs", (string name, int? tail, bool? follow, HttpContext http) => WithUnit(supervisor, name, unit =>
            follow == true
                ? Results.Stream(stream => FollowAsync(unit, tail ?? 0, stream, http.RequestAborted), "text/event-stream")
                : Results.Ok(unit.Log.Tail(Math.Clamp(tail ?? 100, 1, 10_000)).Select(LineView.From))));

        app.MapGet("/api/plugins", () => Results.Ok(setup.Plugins.List().Select(PluginView.From)));

        app.MapPost("/api/plugins/{name}/reload", async (string name, CancellationToken cancellationToken) =>
        {
            var outcome = await setup.Plugins.ReloadAsync(name, cancellationToken).ConfigureAwait(false);
            return outcome.Succeeded
                ? Results.Ok(new { success = true, message = $"{outcome.Plugin} {outcome.FromVersion} -> {outcome.ToVersion} in {outcome.Latency.TotalMilliseconds:F1} ms", outcome.UnitsHandedOver, outcome.UnitsRestarted })
                : Results.Problem(title: "Plugin reload failed", detail: outcome.Error, statusCode: StatusCodes.Status409Conflict);
        });

        app.MapGet("/api/events", () => Results.Ok(setup.Events.Recent()));
    }

    /// <summary>Server-sent events: the last <paramref name="tail"/> lines, then every new line until the client leaves.</summary>
    private static async Task FollowAsync(UnitSupervisor unit, int tail, Stream stream, CancellationToken cancellationToken)
    {
        using var follower = unit.Log.Follow();
        await using var writer = new StreamWriter(stream, leaveOpen: true) { AutoFlush = false };
        foreach (var line in tail > 0 ? unit.Log.Tail(Math.Min(tail, 10_000)) : [])
        {
            await writer.WriteAsync($"data: {JsonSerializer.Serialize(LineView.From(line), JsonSerializerOptions.Web)}\n\n").ConfigureAwait(false);
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await foreach (var line in follower.Lines.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync($"data: {JsonSerializer.Serialize(LineView.From(line), JsonSerializerOptions.Web)}\n\n").ConfigureAwait(false);
                if (follower.Lines.Count == 0)
                {
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }

    private sealed record LineView(string Stream, string Text, DateTimeOffset Timestamp)
    {
        public static LineView From(OutputLine line) => new(line.Stream.ToString().ToLowerInvariant(), line.Text, line.Timestamp);
    }

    private static IResult WithUnit(Supervisor supervisor, string name, Func<UnitSupervisor, IResult> action) =>
        UnitNames.IsValid(name) && supervisor.Find(name) is { } unit
            ? action(unit)
            : Results.Problem(title: "Unknown unit", detail: $"There is no unit named \"{name}\".", statusCode: StatusCodes.Status404NotFound,
                extensions: new Dictionary<string, object?> { ["code"] = "UNIT_NOT_FOUND", ["remedy"] = "GET /api/units lists the units." });

    private static IResult Answer(UnitCommandResult result) => result.Success
        ? Results.Ok(new { success = true, message = result.Message, status = result.Status })
        : Results.Problem(title: "Request refused", detail: result.Message, statusCode: StatusCodes.Status409Conflict,
            extensions: new Dictionary<string, object?> { ["code"] = "UNIT_REQUEST_REFUSED", ["status"] = result.Status });

    private sealed record PluginView(string Name, string? Version, string? Contracts, IReadOnlyList<string> Kinds, string State, int Generation, string? Error, string? Remedy)
    {
        public static PluginView From(PluginStatus status) => new(status.Name, status.Version, status.ContractsVersion?.ToString(), status.Kinds,
            status.State.ToString().ToLowerInvariant(), status.Generation, status.Error, status.Remedy);
    }
}
