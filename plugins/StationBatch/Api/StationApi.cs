using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Units;
using PluginHost.Contracts.Web;
using PluginHost.Plugins.StationBatch.Results;
using PluginHost.Plugins.StationBatch.Sync;

namespace PluginHost.Plugins.StationBatch.Api;

/// <summary>
/// The station's REST API and WebSocket of the seed's Appendix A, served through the host's plugin
/// routes under <c>/plugins/station-batch/api/</c> and <c>/plugins/station-batch/ws/</c>, and at the
/// seed's own paths (<c>/api/batches</c>, <c>/ws</c>…: <see cref="Mounts"/>) — behind the host's
/// token, origin and size guards either way. Batches are addressed by batch id; each action is the
/// batch unit's own operation or the host's control of the unit, so the API, the CLI and the
/// dashboard do the same thing. Errors are problem+json with the seed's names as codes.
/// </summary>
internal sealed class StationApi(StationBatchDriver batches, StationSyncDriver sync, string pluginVersion) : IPluginRoutes
{
    private static readonly JsonElement NoArguments = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>The seed's own paths (Appendix A), beside the plugin's prefix; host.yaml's <c>plugins.mounts</c> moves them or turns them off.</summary>
    public IReadOnlyList<PluginMount> Mounts { get; } =
    [
        new("/api/system", "/system"),
        new("/api/batches", "/batches"),
        new("/api/sequences", "/sequences"),
        new("/api/results", "/results"),
        new("/ws", "/"),
    ];

    public bool IsWebSocket(string path) => path is "" or "/";

    public async ValueTask HandleWebSocketAsync(PluginRequest request, WebSocket socket, CancellationToken cancellationToken) =>
        await batches.Hub.ServeAsync(socket, id => Find(id) is not null, cancellationToken).ConfigureAwait(false);

    public async ValueTask<PluginResponse> HandleAsync(PluginRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parts = request.Path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        return (request.Method, parts) switch
        {
            ("GET", ["system", "info"]) => Info(),
            ("GET", ["system", "health"]) => Health(),
            ("POST", ["system", "sync"]) => await SyncAsync(cancellationToken).ConfigureAwait(false),
            ("GET", ["batches"]) => PluginResponse.Json(new JsonArray([.. batches.Units.Values.OrderBy(c => c.UnitName, StringComparer.Ordinal).Select(c => (JsonNode)Status(c))])),
            ("GET", ["batches", var id]) => WithBatch(id, c => PluginResponse.Json(Status(c))),
            ("POST", ["batches", var id, "start"]) => WithBatch(id, c => Control(c, c.Control.Start("station API"))),
            ("POST", ["batches", var id, "stop"]) => WithBatch(id, c => Control(c, c.Control.Stop("station API"))),
            ("POST", ["batches", var id, "sequence", "start"]) => await OperationAsync(id, "startSequence", StartArguments(request), cancellationToken).ConfigureAwait(false),
            ("POST", ["batches", var id, "sequence", "stop"]) => await OperationAsync(id, "stopSequence", NoArguments, cancellationToken).ConfigureAwait(false),
            ("POST", ["batches", var id, "manual"]) => await OperationAsync(id, "manual", Body(request), cancellationToken).ConfigureAwait(false),
            ("GET", ["sequences"]) => Sequences(),
            ("GET", ["results"]) => Results(request),
            ("GET", ["results", var id]) => Result(id),
            (not ("GET" or "POST"), _) => Problem(405, "MethodNotAllowedError", $"{request.Method} is not served here", "The station API takes GET and POST (docs/station.md, \"The station API\")."),
            _ => Problem(404, "NotFoundError", $"no station route {request.Method} {request.Path}", "docs/station.md lists the station API's routes."),
        };
    }

    private PluginResponse Info()
    {
        var units = batches.Units.Values.ToList();
        return PluginResponse.Json(new JsonObject
        {
            ["stations"] = new JsonArray([.. units.Select(u => batches.SpecOf(u).Station).Distinct().Order().Select(s => (JsonNode)s)]),
            ["version"] = pluginVersion,
            ["batches"] = units.Count,
            ["results_schema"] = ResultsDatabase.Version,
            ["sync_units"] = new JsonArray([.. sync.Units.Keys.Order().Select(k => (JsonNode)k)]),
        });
    }

    private PluginResponse Health()
    {
        var status = Database() is { } db && File.Exists(db) ? SyncStatus.Read(db, TimeProvider.System) : null;
        var ready = batches.Units.Values.Count(u => u.Control.State == UnitState.Ready);
        return PluginResponse.Json(new JsonObject
        {
            ["status"] = ready == batches.Units.Count ? "ok" : "degraded",
            ["backend_connected"] = status?.Connected ?? false,
            ["batches_ready"] = ready,
            ["batches"] = batches.Units.Count,
            ["sync"] = status?.ToJson(),
        });
    }

    private async Task<PluginResponse> SyncAsync(CancellationToken cancellationToken)
    {
        if (sync.Units.Values.FirstOrDefault() is not { } unit)
        {
            return Problem(409, "SyncNotConfiguredError", "this station has no station-sync unit: results stay local", "Add a station-sync manifest (docs/station.md, \"Sync\").");
        }

        var result = await sync.InvokeAsync(unit, "sync", NoArguments, cancellationToken).ConfigureAwait(false);
        return Answer(result, unit.UnitName);
    }

    private JsonObject Status(IUnitContext context)
    {
        var spec = batches.SpecOf(context);
        var worker = batches.MasterOf(context.UnitName)?.LastStatus ?? [];
        var state = context.Control.State;
        var running = worker["state"]?.GetValue<string>() == "running";
        return new JsonObject
        {
            ["id"] = spec.Batch ?? context.UnitName,
            ["name"] = spec.Name.Length > 0 ? spec.Name : context.UnitName,
            ["unit"] = context.UnitName,
            ["status"] = state switch
            {
                UnitState.Ready when running => "running",
                UnitState.Ready when worker["state"]?.GetValue<string>() == "faulted" => "error",
                UnitState.Ready => "idle",
                UnitState.Failed or UnitState.Backoff => "error",
                _ => state.ToString().ToLowerInvariant(),
            },
            ["current_step"] = worker["step"]?.DeepClone(),
            ["progress"] = worker["progress"]?.DeepClone() ?? (running ? null : 0),
            ["sequence_name"] = worker["sequence"]?.DeepClone(),
            ["execution"] = worker["execution"]?.DeepClone(),
            ["last_verdict"] = worker["lastVerdict"]?.DeepClone(),
        };
    }

    private PluginResponse Control(IUnitContext context, UnitControlResult result) => result.Success
        ? PluginResponse.Json(Status(context))
        : Problem(409, "BatchControlError", $"batch {context.UnitName}: {result.Message}", "See the unit's state (GET /api/batches/ID) and its log.");

    private async Task<PluginResponse> OperationAsync(string id, string operation, JsonElement? arguments, CancellationToken cancellationToken)
    {
        if (arguments is not { } given)
        {
            return Problem(400, "InvalidRequestError", "the body is not a JSON object", "Send a JSON object, e.g. {\"parameters\": {\"dut_serial\": \"SN-1\"}}.");
        }

        if (Find(id) is not { } context)
        {
            return BatchNotFound(id);
        }

        if (Refusal(operation, given) is { } refused)
        {
            return Problem(400, "InvalidRequestError", refused, "docs/station.md lists each route's body.");
        }

        return Answer(await batches.InvokeAsync(context, operation, given, cancellationToken).ConfigureAwait(false), context.UnitName);
    }

    private static PluginResponse Answer(OperationResult result, string unit)
    {
        if (result.Success)
        {
            return PluginResponse.Json(result.Data is { } data ? JsonNode.Parse(data.GetRawText()) : new JsonObject { ["message"] = result.Message });
        }

        var error = result.Error ?? new UnitError("OPERATION_FAILED", result.Message, "See the batch's log.");
        return error.Code switch
        {
            "SEQUENCE_RUNNING" => PluginResponse.Problem(409, error with { Code = "BatchAlreadyRunningError" }),
            "BATCH_STOPPING" => PluginResponse.Problem(503, error with { Code = "BatchStoppingError" }),
            "WORKER_NOT_RUNNING" or "WORKER_NOT_CONNECTED" or "SYNC_NOT_RUNNING" => PluginResponse.Problem(409, error with { Code = "BatchNotRunningError" }),
            "INVALID_PARAMETERS" or "INVALID_ARGUMENTS" or "PACKAGE_INVALID" => PluginResponse.Problem(400, error with { Code = "SequenceError" }),
            "COMMAND_TIMEOUT" => PluginResponse.Problem(504, error with { Code = "IPCError" }),
            _ when error.Code.StartsWith("EQUIPMENT_", StringComparison.Ordinal) || error.Code.StartsWith("SCPI_", StringComparison.Ordinal) || error.Code.StartsWith("MODBUS_", StringComparison.Ordinal)
                => PluginResponse.Problem(502, error), // the instrument's own code: HardwareError by kind, the code says which
            _ => PluginResponse.Problem(409, error),
        };
    }

    private PluginResponse Sequences()
    {
        var packages = batches.Units.Values
            .Select(u => (Unit: u, Path: Path.GetFullPath(Path.Combine(u.ManifestDirectory, batches.SpecOf(u).Sequence))))
            .GroupBy(p => p.Path, StringComparer.Ordinal)
            .Select(g => (JsonNode)new JsonObject
            {
                ["name"] = Path.GetFileName(g.Key),
                ["path"] = g.Key,
                ["batches"] = new JsonArray([.. g.Select(p => (JsonNode)batches.BatchIdOf(p.Unit))]),
            });
        return PluginResponse.Json(new JsonArray([.. packages]));
    }

    private PluginResponse Results(PluginRequest request)
    {
        if (Database() is not { } db || !File.Exists(db))
        {
            return PluginResponse.Json(new JsonObject { ["total"] = 0, ["items"] = new JsonArray() });
        }

        string? Text(string name) => request.Query.TryGetValue(name, out var value) && value.Length > 0 ? value : null;
        int? Number(string name) => Text(name) is { } text ? (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1) : null;
        DateTimeOffset? Time(string name, out bool bad)
        {
            bad = false;
            if (Text(name) is not { } text)
            {
                return null;
            }

            bad = !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when);
            return bad ? null : when;
        }

        var from = Time("from", out var badFrom);
        var to = Time("to", out var badTo);
        var limit = Number("limit") ?? 50;
        var offset = Number("offset") ?? 0;
        if (badFrom || badTo || limit is < 1 or > 1000 || offset < 0)
        {
            return Problem(400, "InvalidRequestError", "from and to are ISO 8601 times, limit is 1–1000, offset is 0 or more",
                "e.g. GET /api/results?batch=line1&serial=SN-7&status=FAIL&from=2026-12-01T00:00:00Z&limit=50&offset=0");
        }

        return PluginResponse.Json(ResultsQuery.List(db, new ResultsFilter(Text("batch"), Text("serial"), Text("status"), from, to, limit, offset)));
    }

    private PluginResponse Result(string id) =>
        Database() is { } db && File.Exists(db) && ResultsQuery.One(db, id) is { } result
            ? PluginResponse.Json(result)
            : Problem(404, "ResultNotFoundError", $"no execution \"{id}\"", "GET /api/results lists them (newest first).");

    private string? Database() => batches.Units.Values.FirstOrDefault() is { } any ? StationBatchDriver.ResultsPath(any) : sync.Units.Values.FirstOrDefault() is { } s ? StationBatchDriver.ResultsPath(s) : null;

    private IUnitContext? Find(string id) =>
        batches.Units.Values.FirstOrDefault(u => batches.BatchIdOf(u) == id) ?? batches.Units.GetValueOrDefault(id);

    private PluginResponse WithBatch(string id, Func<IUnitContext, PluginResponse> answer) => Find(id) is { } context ? answer(context) : BatchNotFound(id);

    private PluginResponse BatchNotFound(string id) => Problem(404, "BatchNotFoundError", $"Batch '{id}' not found",
        $"GET /api/batches lists this station's batches ({string.Join(", ", batches.Units.Values.Select(batches.BatchIdOf).Order())}).");

    /// <summary>What is wrong with a body for the batch operation, or null: the operations expect arguments checked.</summary>
    private static string? Refusal(string operation, JsonElement arguments)
    {
        bool IsText(string name) => arguments.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0;
        return operation switch
        {
            "manual" when !IsText("slot") || !IsText("command") => "manual needs {\"slot\": \"…\", \"command\": \"…\"}",
            "startSequence" when arguments.TryGetProperty("params", out var p) && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null) => "parameters is a JSON object",
            _ => null,
        };
    }

    /// <summary>The seed's start body <c>{"parameters": {…}}</c>, as the operation's <c>params</c>.</summary>
    private static JsonElement? StartArguments(PluginRequest request)
    {
        if (request.Body.IsEmpty)
        {
            return NoArguments;
        }

        if (Body(request) is not { } body)
        {
            return null;
        }

        var arguments = new JsonObject { ["params"] = body.TryGetProperty("parameters", out var p) ? JsonNode.Parse(p.GetRawText()) : null };
        return JsonDocument.Parse(arguments.ToJsonString()).RootElement.Clone();
    }

    private static JsonElement? Body(PluginRequest request)
    {
        try
        {
            return JsonDocument.Parse(request.Body).RootElement is { ValueKind: JsonValueKind.Object } body ? body.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static PluginResponse Problem(int status, string code, string message, string remedy) => PluginResponse.Problem(status, new UnitError(code, message, remedy));
}
