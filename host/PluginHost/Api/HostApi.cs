using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Units;
using PluginHost.Core.Hosting;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Processes;
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

    /// <summary>
    /// The API as one request handler: WebSocket upgrades recognised, then <see cref="ApiGuard"/>,
    /// then the routes. <paramref name="stopping"/> ends the long-lived responses.
    /// </summary>
    public static RequestDelegate Create(HostSetup setup, Supervisor supervisor, Core.Alerts.AlertCenter alerts, ApiGuard guard, CancellationToken stopping, ILoggerFactory loggers)
    {
        var routes = new ApiRoutes();
        Map(routes, setup, supervisor, stopping);
        routes.MapGet("/api/alerts", (_, _) => ApiReply.Json(alerts.Recent().Select(RaisedAlertView.From).ToArray()));
        RequestDelegate guarded = http => guard.HandleAsync(http, routes.DispatchAsync);
        var webSockets = new WebSocketMiddleware(guarded, Options.Create(new Microsoft.AspNetCore.Builder.WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) }), loggers);
        return MaskedClientFrames.Require(webSockets.Invoke);
    }

    private static void Map(ApiRoutes routes, HostSetup setup, Supervisor supervisor, CancellationToken stopping)
    {
        var sseClients = new ConnectionCount();

        routes.MapGet("/api/health", (_, _) =>
        {
            // RSS as /metrics gives it; threads from /proc/self/stat (System.Diagnostics.Process would parse a file per thread).
            var alerts = setup.Alarm.Active().Select(AlertView.From).ToArray();
            return ApiReply.Json(new HealthView(alerts.Length == 0 ? "ok" : "degraded", typeof(HostApi).Assembly.GetName().Version?.ToString(3),
                new MemoryView(Environment.WorkingSet, GC.GetTotalMemory(false), GC.GetGCMemoryInfo().TotalCommittedBytes),
                ProcStat.Read(Environment.ProcessId)?.Threads, alerts));
        });

        MapUnits(routes, supervisor, setup.Events, stopping);

        routes.MapGet("/api/plugins", (_, _) => ApiReply.Json(setup.Plugins.List().Select(PluginView.From).ToArray()));

        routes.MapPost("/api/plugins/{name}/reload", async (http, route) =>
        {
            var name = route["name"];
            if (!UnitNames.IsValid(name))
            {
                return ApiProblem.InvalidName("plugin", name);
            }

            var outcome = await setup.Plugins.ReloadAsync(name, http.RequestAborted).ConfigureAwait(false);
            return outcome.Succeeded
                ? ApiReply.Json(new ReloadAnswer(true, $"{outcome.Plugin} {outcome.FromVersion} -> {outcome.ToVersion} in {outcome.Latency.TotalMilliseconds:F1} ms", outcome.UnitsHandedOver, outcome.UnitsRestarted))
                : ApiProblem.Of(StatusCodes.Status409Conflict, "PLUGIN_RELOAD_FAILED", "Plugin reload failed", outcome.Error ?? "the reload failed",
                    "The previous version keeps running; fix the build and reload again (GET /api/plugins shows the error).");
        });

        routes.MapGet("/api/events", (http, _) =>
        {
            var unit = ApiQuery.String(http, "unit");
            return unit is not null && !UnitNames.IsValid(unit)
                ? ApiProblem.InvalidName("unit", unit)
                : ApiReply.Streamed(async () =>
                {
                    using var counted = sseClients.Enter();
                    await EventStream.ServeAsync(http, setup.Events, setup.EventJournal, unit, EventStream.ResumePoint(http.Request), stopping).ConfigureAwait(false);
                });
        });

        routes.MapGet("/api/events/recent", (http, _) =>
        {
            var unit = ApiQuery.String(http, "unit");
            var limit = Math.Min(ApiQuery.Count(http, "limit") ?? 1000, 1000);
            var recent = setup.Events.RecentSequenced().Where(e => unit is null || e.Event.Unit == unit).TakeLast(limit);
            return ApiReply.Json(recent.Select(RecentEvent.From).ToArray());
        });

        routes.MapGet("/metrics", (_, _) => ApiReply.Text(MetricsText.Render(supervisor, setup.Plugins, setup.Events, setup.Alarm, sseClients.Current), MetricsText.ContentType));

        Dashboard.Map(routes);
        PluginEndpoints.Map(routes, setup.Plugins, setup.Host.PluginMounts, stopping);
    }

    private static void MapUnits(ApiRoutes routes, Supervisor supervisor, PluginHost.Core.Events.EventBus events, CancellationToken stopping)
    {
        routes.MapGet("/api/units", (http, _) =>
        {
            // The event id the statuses are at least as new as: a client that already applied a later
            // event for a unit (the dashboard) keeps that instead of this older snapshot.
            http.Response.Headers[EventIdHeader] = events.LastId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiReply.Json(supervisor.Statuses());
        });

        routes.MapGet("/api/units/{name}", (_, route) => WithUnit(supervisor, route["name"], unit =>
        {
            // The status record, extended with what only one unit's page needs.
            var detail = JsonSerializer.SerializeToNode(unit.Status(), ApiJsonContext.Default.UnitStatus)!.AsObject();
            detail["env"] = JsonSerializer.SerializeToNode(unit.PublicEnvironment(), ApiJsonContext.Default.IReadOnlyDictionaryStringString);
            detail["operations"] = JsonSerializer.SerializeToNode(unit.Operations().Select(OperationView.From).ToArray(), ApiJsonContext.Default.OperationViewArray);
            return ApiReply.Json(detail);
        }));

        routes.MapPost("/api/units/{name}/start", (_, route) => WithUnit(supervisor, route["name"], unit => Answer(unit.Start())));
        routes.MapPost("/api/units/{name}/stop", (_, route) => WithUnit(supervisor, route["name"], unit => Answer(unit.Stop())));
        routes.MapPost("/api/units/{name}/restart", (_, route) => WithUnit(supervisor, route["name"], unit => Answer(unit.Restart())));

        routes.MapGet("/api/units/{name}/pty", async (http, route) =>
            !UnitNames.IsValid(route["name"]) ? ApiProblem.InvalidName("unit", route["name"])
            : supervisor.Find(route["name"]) is { } unit ? await TerminalSocket.ServeAsync(http, unit, stopping).ConfigureAwait(false)
            : ApiProblem.UnknownUnit(route["name"]));

        routes.MapGet("/api/units/{name}/logs", (http, route) => WithUnit(supervisor, route["name"], unit =>
        {
            // ?tail=0 is no line (a follower that wants only what comes); more than is kept is all of it.
            var tail = ApiQuery.Count(http, "tail");
            return ApiQuery.Bool(http, "follow") == true
                ? ApiReply.Streamed(() => LogStream.ServeAsync(http, unit, tail ?? 0, stopping))
                : ApiReply.Json((tail == 0 ? [] : unit.Log.Tail(Math.Min(tail ?? 100, 10_000))).Select(LogStream.LineView.From).ToArray());
        }));

        routes.MapGet("/api/units/{name}/ops", (_, route) => WithUnit(supervisor, route["name"], unit => ApiReply.Json(unit.Operations().Select(OperationView.From).ToArray())));

        routes.MapPost("/api/units/{name}/ops/{op}", async (http, route) =>
        {
            var (name, op) = (route["name"], route["op"]);
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
                return ApiReply.Json(new OperationAnswer(true, result.Message, result.Data, unit.Status()));
            }

            var error = result.Error ?? new UnitError("OPERATION_FAILED", result.Message, "See the unit's logs (pluginhost logs " + name + ").");
            if (error.Code == OperationResult.InvalidArgumentsCode)
            {
                // The caller's to fix, like the host's own argument checks above.
                return ApiProblem.From(error, StatusCodes.Status400BadRequest, "Invalid arguments",
                    new Dictionary<string, object?> { ["problems"] = new[] { $"{op}: {error.Message}" } });
            }

            return ApiProblem.From(error, StatusCodes.Status409Conflict, $"{op} failed",
                new Dictionary<string, object?> { ["success"] = false, ["data"] = result.Data, ["unit"] = unit.Status() });
        });
    }

    private static IResult WithUnit(Supervisor supervisor, string name, Func<UnitSupervisor, IResult> action) =>
        !UnitNames.IsValid(name) ? ApiProblem.InvalidName("unit", name)
        : supervisor.Find(name) is { } unit ? action(unit)
        : ApiProblem.UnknownUnit(name);

    private static IResult Answer(UnitCommandResult result) => result.Success
        ? ApiReply.Json(result)
        : ApiProblem.Of(StatusCodes.Status409Conflict, "UNIT_REQUEST_REFUSED", "Request refused", result.Message,
            "Look at the unit's state and last error (GET /api/units/NAME); start a failed unit again to reset it.",
            new Dictionary<string, object?> { ["success"] = false, ["unit"] = result.Status });

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,62}$")]
    private static partial Regex OperationName();
}
