using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Units;
using PluginHost.Plugins;
using PluginHost.Station.Protocol;

namespace PluginHost.Plugins.StationBatch;

/// <summary>The batch's operations (CLI <c>pluginhost ops</c>, the API, the dashboard), each one command to the worker.</summary>
internal sealed partial class StationBatchDriver
{
    public IReadOnlyList<UnitOperation> Operations { get; } =
    [
        new("startSequence", "Starts an execution of the batch's sequence (the package is read again).")
        {
            Parameters = [new OperationParameter("params", OperationParameterType.Object, "parameter values for this run, over the batch's own")],
        },
        new("stopSequence", "Stops the running execution at its next step boundary; its teardown runs.")
        {
            Parameters = [new OperationParameter("timeoutMs", OperationParameterType.Integer, "how long to wait for the step boundary (default 30000)")],
            LongRunning = true,
        },
        new("status", "The worker's state: idle or running, the execution and step, the last verdict."),
        new("manual", "Sends one command to one instrument while no execution runs.")
        {
            Parameters =
            [
                new OperationParameter("slot", OperationParameterType.String, "the hardware slot", Required: true),
                new OperationParameter("command", OperationParameterType.String, "the instrument command (a query when it has '?')", Required: true),
            ],
        },
        new("execution", "The master's record of one execution: every event taken, in order.")
        {
            Parameters = [new OperationParameter("id", OperationParameterType.String, "the execution id", Required: true)],
        },
        new("backup", "An online backup of the station's results database into a folder, while sequences run (docs/station.md, \"Results\").")
        {
            Parameters = [new OperationParameter("dir", OperationParameterType.String, "an absolute folder; the copy is results-TIME.db in it", Required: true)],
        },
    ];

    public async ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (operation == "backup")
        {
            return Backup(context, arguments.GetProperty("dir").GetString()!);
        }

        // The record is the database's: readable whether or not the worker runs.
        if (operation == "execution")
        {
            var id = arguments.GetProperty("id").GetString()!;
            JsonArray records;
            try
            {
                records = new JsonArray([.. Results.ExecutionRecords.Read(ResultsPath(context), id).Select(r => (JsonNode)r)]);
            }
            catch (ArgumentException)
            {
                return OperationResult.InvalidArguments($"\"{id}\" is not an execution id", "Use an id from startSequence's answer or a station event.");
            }
            catch (Exception ex) when (ex is Results.SqliteFailure or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                return OperationResult.Fail(new UnitError("RESULTS_UNAVAILABLE", $"The station's results database cannot be read: {ex.Message}",
                    "Check that the data folder is readable; a database of a newer plugin needs that plugin."));
            }

            return OperationResult.Ok($"{records.Count} record(s) of {id}", ToElement(new JsonObject { ["execution"] = id, ["records"] = records }));
        }

        if (!_masters.TryGetValue(context.UnitName, out var master))
        {
            return OperationResult.Fail(new UnitError("WORKER_NOT_RUNNING", $"Batch {context.UnitName} has no running worker.", $"Start {context.UnitName} first."));
        }

        // The seed's shutdown (§7.2) begins by refusing new requests: a batch being stopped (the host
        // stopping, or an operator) takes no new execution or instrument command; status and records still answer.
        if (operation is "startSequence" or "manual" && context.Control.State is UnitState.Stopping or UnitState.Restarting)
        {
            return OperationResult.Fail(new UnitError("BATCH_STOPPING", $"Batch {context.UnitName} is stopping: it takes no new {(operation == "manual" ? "instrument command" : "execution")}.",
                $"Wait until {context.UnitName} is running again (pluginhost status), then ask again."));
        }

        var (type, body) = operation switch
        {
            "startSequence" => (MessageTypes.StartSequence, new JsonObject { ["params"] = Node(arguments, "params") }),
            "stopSequence" => (MessageTypes.StopSequence, new JsonObject { ["timeoutMs"] = Node(arguments, "timeoutMs") }),
            "manual" => (MessageTypes.ManualControl, new JsonObject { ["slot"] = Node(arguments, "slot"), ["command"] = Node(arguments, "command") }),
            _ => (MessageTypes.GetStatus, (JsonObject?)null),
        };
        var reply = await master.SendAsync(type, body, cancellationToken).ConfigureAwait(false);
        if (reply.Ok != true)
        {
            var error = reply.Error ?? new ProtocolError("WORKER_ERROR", "the worker refused without saying why");
            return OperationResult.Fail(new UnitError(error.Code, error.Message, error.Remedy ?? Remedy(error.Code)));
        }

        return OperationResult.Ok(Summary(operation, reply.Body), reply.Body is null ? null : ToElement(reply.Body));
    }

    public string? Summarize(string kind, JsonElement payload) => kind switch
    {
        "station_step_complete" => $"{Text(payload, "step")}: {Text(payload, "outcome")}"
            + (payload.TryGetProperty("measurement", out var m) ? $" ({Text(m, "name")} = {Text(m, "value")} {Text(m, "units")}, {Text(m, "limits")})" : "")
            + (payload.TryGetProperty("error", out var e) ? $" — {Text(e, "code")}: {Text(e, "message")}" : ""),
        "station_step_start" => $"{Text(payload, "group")} step {Text(payload, "step")} started",
        "station_sequence_complete" => $"{Text(payload, "sequence")} finished: {Text(payload, "verdict")}" + (Text(payload, "stopped") == "true" ? " (stopped)" : ""),
        "station_sequence_error" => $"execution failed: {Text(payload, "code")}: {Text(payload, "message")}",
        "station_sequence_aborted" => $"execution {Text(payload, "execution")} aborted: {Text(payload, "reason")}",
        "station_log" => Text(payload, "message"),
        _ => null,
    };

    private static OperationResult Backup(IUnitContext context, string folder)
    {
        try
        {
            var (path, bytes) = Results.ResultsBackup.Run(ResultsPath(context), folder, context.Time);
            return OperationResult.Ok($"results backed up to {path} ({bytes / 1024.0:F0} KiB)", ToElement(new JsonObject { ["path"] = path, ["bytes"] = bytes }));
        }
        catch (ArgumentException ex)
        {
            return OperationResult.InvalidArguments(ex.Message, "Give an absolute folder, e.g. --dir /backup/station/$(date +%Y%m%d).");
        }
        catch (Exception ex) when (ex is Results.SqliteFailure or IOException or UnauthorizedAccessException)
        {
            return OperationResult.Fail(new UnitError("BACKUP_FAILED", $"The results database could not be backed up into {folder}: {ex.Message}",
                "Check that the folder is writable and has room for a copy of the database; the database itself is untouched."));
        }
    }

    private static string Summary(string operation, JsonObject? body) => operation switch
    {
        "startSequence" => $"execution {body?["execution"]} of {body?["sequence"]} started",
        "stopSequence" => body?["stopped"]?.GetValue<bool>() == true ? $"execution {body["execution"]} stopped" : "nothing was running",
        "manual" => body?["reply"] is { } reply ? $"reply: {reply}" : $"sent: {body?["written"]}",
        _ => $"{body?["state"]}" + (body?["execution"] is { } ex ? $", execution {ex} at {body["step"]}" : ""),
    };

    private static string Remedy(string code) => code switch
    {
        "SEQUENCE_RUNNING" => "Wait for the execution to end, or stop it with stopSequence.",
        "PACKAGE_INVALID" => "Fix the sequence package as listed (file:line:column), then start again; the batch stays ready.",
        "INVALID_PARAMETERS" => "Give parameters the package declares, with values of their type and within their limits.",
        "DRIVER_NOT_FOUND" or "DRIVER_LOAD_FAILED" => "Build or install the equipment driver plugin the slot names (artifacts/drivers/), or fix spec.hardware; then restart the batch.",
        "SLOT_NOT_BOUND" => "Bind every slot the package's hardware section names in spec.hardware.",
        "WORKER_NOT_CONNECTED" or "COMMAND_TIMEOUT" => "Check the batch's logs (pluginhost logs UNIT); the host restarts a worker that stops sending heartbeats.",
        _ => "See the batch's logs and events for what the worker reported.",
    };

    private static JsonNode? Node(JsonElement arguments, string name) =>
        arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty(name, out var value) ? JsonNode.Parse(value.GetRawText()) : null;

    private static JsonElement ToElement(JsonObject body) => JsonDocument.Parse(body.ToJsonString()).RootElement.Clone();

    private static string Text(JsonElement payload, string name) => PayloadText.Of(payload, name);
}
