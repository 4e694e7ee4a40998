using System.Globalization;
using System.Text.Json.Nodes;
using PluginHost.Station.Protocol;

namespace PluginHost.Plugins.StationBatch.Results;

/// <summary>
/// What one acknowledged event writes, inside the commit's transaction: the event itself
/// (<c>events</c>), the result rows it makes — an execution's row at SEQUENCE_START, updated at its
/// end; a step's row at STEP_COMPLETE; a log line at LOG — and, for each result row, its
/// <c>sync_queue</c> row with an idempotency key (<c>STATION:EXECUTION:SEQ</c>) that a backend
/// uses to take it once. Commands are prepared once per connection.
/// </summary>
internal sealed class ResultRows(SqliteFile connection, string station, string batch) : IDisposable
{
    // Keyed by the statement text's reference: the texts are literals (interned), and hashing a
    // 500-character statement for every row cost more than the lookup saves.
    private readonly Dictionary<string, SqliteFile.Statement> _commands = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public void Write(string execution, long seq, string type, DateTimeOffset at, JsonObject? body)
    {
        var when = at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        var json = body?.ToJsonString();
        Run("INSERT INTO events (execution_id, seq, type, at, body) VALUES ($e, $seq, $type, $at, $body)",
            ("$e", execution), ("$seq", seq), ("$type", type), ("$at", when), ("$body", json));

        // Every execution has its row, even one whose first events were never seen (a worker of part 1).
        // Once per execution and connection: a rolled-back commit forgets it (see Forget).
        if (_known.Add(execution))
        {
            Run("INSERT OR IGNORE INTO execution_results (id, station_id, batch_id, started_at, status) VALUES ($e, $station, $batch, $at, 'running')",
                ("$e", execution), ("$station", station), ("$batch", batch), ("$at", when));
        }

        switch (type)
        {
            case MessageTypes.SequenceStart:
                var parameters = body?["parameters"] as JsonObject;
                Run("UPDATE execution_results SET sequence_name = $name, sequence_version = $version, dut_serial = $serial, parameters = $parameters, started_at = $at WHERE id = $e",
                    ("$e", execution), ("$name", Text(body, "sequence")), ("$version", Text(body, "version")),
                    ("$serial", Text(parameters, "dut_serial") ?? Text(parameters, "serial")), ("$parameters", parameters?.ToJsonString()), ("$at", when));
                Queue("execution", execution, "create", execution, seq, ExecutionPayload(execution));
                break;
            case MessageTypes.StepComplete:
                WriteStep(execution, seq, at, body ?? [], json ?? "{}");
                break;
            case MessageTypes.Log:
                Run("INSERT INTO logs (batch_id, execution_id, level, message, timestamp) VALUES ($batch, $e, $level, $message, $at)",
                    ("$batch", batch), ("$e", execution), ("$level", Text(body, "level") ?? "info"), ("$message", Text(body, "message") ?? ""), ("$at", when));
                break;
            case MessageTypes.SequenceComplete or MessageTypes.SequenceError or MessageTypes.SequenceAborted:
                var (status, verdict) = type switch
                {
                    MessageTypes.SequenceComplete when body?["stopped"]?.GetValue<bool>() == true => ("stopped", Text(body, "verdict")),
                    MessageTypes.SequenceComplete => ("completed", Text(body, "verdict")),
                    MessageTypes.SequenceError => ("error", "ERROR"),
                    _ => ("aborted", "ERROR"),
                };
                var code = type == MessageTypes.SequenceAborted ? "SEQUENCE_ABORTED" : Text(body, "code");
                var message = type == MessageTypes.SequenceAborted ? Text(body, "reason") : Text(body, "message");
                Run("UPDATE execution_results SET completed_at = $at, status = $status, verdict = $verdict, result = $result, error_code = $code, error_message = $message WHERE id = $e",
                    ("$e", execution), ("$at", when), ("$status", status), ("$verdict", verdict), ("$result", body?.ToJsonString()), ("$code", code), ("$message", message));
                Queue("execution", execution, "update", execution, seq, ExecutionPayload(execution));
                break;
        }
    }

    private void WriteStep(string execution, long seq, DateTimeOffset at, JsonObject body, string json)
    {
        var measurement = body["measurement"] as JsonObject;
        var error = body["error"] as JsonObject;
        var duration = body["durationMs"]?.GetValue<double>() ?? 0;
        var value = measurement?["value"];
        var number = value is JsonValue v && v.TryGetValue<double>(out var d) ? d : (double?)null;
        var step = new JsonObject
        {
            ["id"] = $"{execution}:{seq}",
            ["station_id"] = station,
            ["execution_id"] = execution,
            ["step_group"] = Text(body, "group") ?? "main",
            ["step_index"] = body["index"]?.GetValue<int>() ?? 0,
            ["step_name"] = Text(body, "step") ?? "",
            ["attempts"] = body["attempts"]?.GetValue<int>() ?? 1,
            ["started_at"] = at.AddMilliseconds(-duration).UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["completed_at"] = at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["duration_ms"] = duration,
            ["status"] = Text(body, "outcome") ?? "ERROR",
            ["measurement_name"] = Text(measurement, "name"),
            ["measurement_value"] = number,
            ["measurement_text"] = number is null ? value?.ToString() : null,
            ["units"] = Text(measurement, "units"),
            ["limits"] = Text(measurement, "limits"),
            ["marginal"] = measurement?["marginal"]?.GetValue<bool>(),
            ["error_code"] = Text(error, "code"),
            ["error_message"] = Text(error, "message"),
            ["reply"] = Text(body, "reply"),
        };
        Run("""
            INSERT INTO step_results (id, execution_id, step_group, step_index, step_name, attempts, started_at, completed_at, duration_ms, status,
                measurement_name, measurement_value, measurement_text, units, limits, marginal, error_code, error_message, reply, result)
            VALUES ($id, $e, $group, $index, $name, $attempts, $started, $completed, $duration, $status,
                $mname, $mvalue, $mtext, $units, $limits, $marginal, $ecode, $emessage, $reply, $result)
            """,
            ("$id", step["id"]!.GetValue<string>()), ("$e", execution), ("$group", step["step_group"]!.GetValue<string>()), ("$index", step["step_index"]!.GetValue<int>()),
            ("$name", step["step_name"]!.GetValue<string>()), ("$attempts", step["attempts"]!.GetValue<int>()), ("$started", step["started_at"]!.GetValue<string>()),
            ("$completed", step["completed_at"]!.GetValue<string>()), ("$duration", duration), ("$status", step["status"]!.GetValue<string>()),
            ("$mname", Text(measurement, "name")), ("$mvalue", number), ("$mtext", step["measurement_text"]?.GetValue<string>()), ("$units", Text(measurement, "units")),
            ("$limits", Text(measurement, "limits")), ("$marginal", measurement?["marginal"]?.GetValue<bool>() is { } m ? (m ? 1 : 0) : null),
            ("$ecode", Text(error, "code")), ("$emessage", Text(error, "message")), ("$reply", Text(body, "reply")), ("$result", json));
        Queue("step", step["id"]!.GetValue<string>(), "create", execution, seq, step);
    }

    /// <summary>The execution's row as the backend gets it (what sync sends for "execution").</summary>
    private JsonObject ExecutionPayload(string execution)
    {
        var query = Prepared("""
            SELECT station_id, batch_id, sequence_name, sequence_version, dut_serial, started_at, completed_at, status, verdict, parameters, error_code, error_message
            FROM execution_results WHERE id = $e
            """).Bind("$e", execution);
        query.Step();
        var payload = new JsonObject
        {
            ["id"] = execution,
            ["station_id"] = query.Text(0),
            ["batch_id"] = query.Text(1),
            ["sequence_name"] = query.Text(2),
            ["sequence_version"] = query.Text(3),
            ["dut_serial"] = query.Text(4),
            ["started_at"] = query.Text(5),
            ["completed_at"] = query.Text(6),
            ["status"] = query.Text(7),
            ["verdict"] = query.Text(8),
            ["parameters"] = query.Text(9) is { } p ? JsonNode.Parse(p) : null,
            ["error_code"] = query.Text(10),
            ["error_message"] = query.Text(11),
        };

        // Ended now: a statement left on its row keeps the connection's read snapshot open, and the
        // next commit could not take the write lock once another batch had written (SQLITE_BUSY at once).
        query.Reset();
        return payload;
    }

    private void Queue(string entity, string id, string action, string execution, long seq, JsonObject payload) =>
        Run("INSERT INTO sync_queue (entity_type, entity_id, action, payload, idempotency_key) VALUES ($type, $id, $action, $payload, $key)",
            ("$type", entity), ("$id", id), ("$action", action), ("$payload", payload.ToJsonString()), ("$key", $"{station}:{execution}:{seq}"));

    private void Run(string sql, params (string Name, object? Value)[] parameters)
    {
        var statement = Prepared(sql);
        foreach (var (name, value) in parameters)
        {
            statement.Bind(name, value);
        }

        statement.Run();
    }

    /// <summary>One statement per text, prepared once and reset for each use.</summary>
    private SqliteFile.Statement Prepared(string sql)
    {
        if (!_commands.TryGetValue(sql, out var statement))
        {
            statement = connection.Prepare(sql);
            _commands[sql] = statement;
        }

        return statement.Reset();
    }

    /// <summary>After a rollback: the executions' rows may not be there, so they are written again.</summary>
    public void Forget() => _known.Clear();

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }

    private static string? Text(JsonObject? json, string name) => json?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
