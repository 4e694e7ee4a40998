using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PluginHost.Contracts.Units;
using PluginHost.Core.Hosting;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Supervision;

namespace PluginHost.Api;

/// <summary>
/// The HTTP API (DESIGN.md §7, docs/api.md): health, units (status, start/stop/restart, logs,
/// plugin operations), plugins (list, reload), the event stream, and /metrics. Errors are
/// application/problem+json with a code, the message and a remedy.
/// </summary>
internal static partial class HostApi
{
    public const long MaxRequestBodyBytes = 64 * 1024;
    public const string EventIdHeader = "X-PluginHost-Event-Id";

    public static void Map(WebApplication app, HostSetup setup, Supervisor supervisor)
    {
        var sseClients = new ConnectionCount();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });

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

        MapUnits(app, supervisor, setup.Events);

        app.MapGet("/api/plugins", () => Results.Ok(setup.Plugins.List().Select(PluginView.From)));

        app.MapPost("/api/plugins/{name}/reload", async (string name, CancellationToken cancellationToken) =>
        {
            if (!UnitNames.IsValid(name))
            {
                return ApiProblem.InvalidName("plugin", name);
            }

            var outcome = await setup.Plugins.ReloadAsync(name, cancellationToken).ConfigureAwait(false);
            return outcome.Succeeded
                ? Results.Ok(new { success = true, message = $"{outcome.Plugin} {outcome.FromVersion} -> {outcome.ToVersion} in {outcome.Latency.TotalMilliseconds:F1} ms", outcome.UnitsHandedOver, outcome.UnitsRestarted })
                : ApiProblem.Of(StatusCodes.Status409Conflict, "PLUGIN_RELOAD_FAILED", "Plugin reload failed", outcome.Error ?? "the reload failed",
                    "The previous version keeps running; fix the build and reload again (GET /api/plugins shows the error).");
        });

        app.MapGet("/api/events", (HttpContext http, string? unit) => unit is not null && !UnitNames.IsValid(unit)
            ? ApiProblem.InvalidName("unit", unit)
            : new StreamResult(async () =>
            {
                using var counted = sseClients.Enter();
                await EventStream.ServeAsync(http, setup.Events, setup.EventJournal, unit, EventStream.ResumePoint(http.Request)).ConfigureAwait(false);
            }));

        app.MapGet("/api/events/recent", (string? unit, int? limit) =>
        {
            var recent = setup.Events.RecentSequenced().Where(e => unit is null || e.Event.Unit == unit).TakeLast(Math.Clamp(limit ?? 1000, 1, 1000));
            return Results.Ok(recent.Select(e => new { e.Id, e.Event.Kind, e.Event.Unit, e.Event.Plugin, e.Event.Timestamp, e.Event.Payload }));
        });

        app.MapGet("/metrics", () => Results.Text(MetricsText.Render(supervisor, setup.Plugins, setup.Events, sseClients.Current), MetricsText.ContentType));

        app.Map("/api/{**rest}", (string? rest) => ApiProblem.Of(StatusCodes.Status404NotFound, "NOT_FOUND", "No such route",
            $"There is no API route /api/{rest}.", "See docs/api.md for the routes."));

        Dashboard.Map(app);
    }

    private static void MapUnits(WebApplication app, Supervisor supervisor, PluginHost.Core.Events.EventBus events)
    {
        app.MapGet("/api/units", (HttpContext http) =>
        {
            // The event id the statuses are at least as new as: a client that already applied a later
            // event for a unit (the dashboard) keeps that instead of this older snapshot.
            http.Response.Headers[EventIdHeader] = events.LastId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Ok(supervisor.Statuses());
        });

        app.MapGet("/api/units/{name}", (string name) => WithUnit(supervisor, name, unit =>
        {
            // The status record, extended with what only one unit's page needs.
            var detail = JsonSerializer.SerializeToNode(unit.Status(), JsonSerializerOptions.Web)!.AsObject();
            detail["env"] = JsonSerializer.SerializeToNode(unit.PublicEnvironment(), JsonSerializerOptions.Web);
            detail["operations"] = JsonSerializer.SerializeToNode(unit.Operations().Select(OperationView.From).ToArray(), JsonSerializerOptions.Web);
            return Results.Text(detail.ToJsonString(), "application/json");
        }));

        app.MapPost("/api/units/{name}/start", (string name) => WithUnit(supervisor, name, unit => Answer(unit.Start())));
        app.MapPost("/api/units/{name}/stop", (string name) => WithUnit(supervisor, name, unit => Answer(unit.Stop())));
        app.MapPost("/api/units/{name}/restart", (string name) => WithUnit(supervisor, name, unit => Answer(unit.Restart())));

        app.MapGet("/api/units/{name}/pty", async (string name, HttpContext http) =>
            !UnitNames.IsValid(name) ? ApiProblem.InvalidName("unit", name)
            : supervisor.Find(name) is { } unit ? await TerminalSocket.ServeAsync(http, unit).ConfigureAwait(false) ?? Results.Empty
            : ApiProblem.UnknownUnit(name));

        app.MapGet("/api/units/{name}/logs", (string name, int? tail, bool? follow, HttpContext http) => WithUnit(supervisor, name, unit =>
            follow == true
                ? new StreamResult(() => LogStream.ServeAsync(http, unit, tail ?? 0))
                : Results.Ok(unit.Log.Tail(Math.Clamp(tail ?? 100, 1, 10_000)).Select(LogStream.LineView.From))));

        app.MapGet("/api/units/{name}/ops", (string name) => WithUnit(supervisor, name, unit => Results.Ok(unit.Operations().Select(OperationView.From))));

        app.MapPost("/api/units/{name}/ops/{op}", async (string name, string op, HttpContext http) =>
        {
            if (!UnitNames.IsValid(name) || supervisor.Find(name) is not { } unit)
            {
                return UnitNames.IsValid(name) ? ApiProblem.UnknownUnit(name) : ApiProblem.InvalidName("unit", name);
            }

            if (!OperationName().IsMatch(op))
            {
                return ApiProblem.InvalidName("operation", op);
            }

            var operation = unit.Operations().FirstOrDefault(o => o.Name == op);
            if (operation is null)
            {
                var offered = unit.Operations().Select(o => o.Name).ToArray();
                return ApiProblem.Of(StatusCodes.Status404NotFound, "OPERATION_NOT_FOUND", "Unknown operation",
                    $"Unit {name} ({unit.Kind}) has no operation \"{op}\".",
                    offered.Length == 0 ? $"The {unit.Kind} plugin offers no operations; use start, stop or restart." : "It offers: " + string.Join(", ", offered) + ".");
            }

            JsonElement arguments;
            try
            {
                arguments = http.Request.ContentLength is 0 || (http.Request.ContentLength is null && !http.Request.Headers.TransferEncoding.Any())
                    ? default
                    : (await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted).ConfigureAwait(false)).RootElement;
            }
            catch (JsonException ex)
            {
                return ApiProblem.Of(StatusCodes.Status400BadRequest, "INVALID_ARGUMENTS", "Arguments are not JSON",
                    $"The body of {op} is not valid JSON: {ex.Message}", "Send a JSON object, e.g. {\"name\": \"value\"}, with Content-Type: application/json.");
            }

            var problems = OperationArguments.Check(operation, arguments);
            if (problems.Count > 0)
            {
                return ApiProblem.Of(StatusCodes.Status400BadRequest, "INVALID_ARGUMENTS", "Invalid arguments",
                    $"{op}: " + string.Join("; ", problems), "GET /api/units/" + name + "/ops shows each operation's parameters.",
                    new Dictionary<string, object?> { ["problems"] = problems });
            }

            var result = await unit.InvokeAsync(operation, arguments, http.RequestAborted).ConfigureAwait(false);
            if (result.Success)
            {
                return Results.Ok(new { success = true, message = result.Message, data = result.Data, status = unit.Status() });
            }

            var error = result.Error ?? new UnitError("OPERATION_FAILED", result.Message, "See the unit's logs (pluginhost logs " + name + ").");
            return ApiProblem.From(error, StatusCodes.Status409Conflict, $"{op} failed",
                new Dictionary<string, object?> { ["success"] = false, ["data"] = result.Data, ["status"] = unit.Status() });
        });
    }

    private static IResult WithUnit(Supervisor supervisor, string name, Func<UnitSupervisor, IResult> action) =>
        !UnitNames.IsValid(name) ? ApiProblem.InvalidName("unit", name)
        : supervisor.Find(name) is { } unit ? action(unit)
        : ApiProblem.UnknownUnit(name);

    private static IResult Answer(UnitCommandResult result) => result.Success
        ? Results.Ok(new { success = true, message = result.Message, status = result.Status })
        : ApiProblem.Of(StatusCodes.Status409Conflict, "UNIT_REQUEST_REFUSED", "Request refused", result.Message,
            "Look at the unit's state and last error (GET /api/units/NAME); start a failed unit again to reset it.",
            new Dictionary<string, object?> { ["success"] = false, ["status"] = result.Status });

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,62}$")]
    private static partial Regex OperationName();

    private sealed record PluginView(string Name, string? Version, string? Contracts, IReadOnlyList<string> Kinds, string State, int Generation, string? Error, string? Remedy)
    {
        public static PluginView From(PluginStatus status) => new(status.Name, status.Version, status.ContractsVersion?.ToString(), status.Kinds,
            status.State.ToString().ToLowerInvariant(), status.Generation, status.Error, status.Remedy);
    }

    private sealed record OperationView(string Name, string Description, bool LongRunning, IReadOnlyList<ParameterView> Parameters)
    {
        public static OperationView From(PluginHost.Contracts.Operations.UnitOperation op) =>
            new(op.Name, op.Description, op.LongRunning, op.Parameters.Select(p => new ParameterView(p.Name, p.Type.ToString().ToLowerInvariant(), p.Description, p.Required)).ToArray());
    }

    private sealed record ParameterView(string Name, string Type, string Description, bool Required);
}
