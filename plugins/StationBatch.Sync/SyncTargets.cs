using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace PluginHost.Station.Sync;

/// <summary>Where results go. <see cref="SendAsync"/> either takes every item or throws; taking one twice (by its key) is a no-op.</summary>
internal interface ISyncTarget : IAsyncDisposable
{
    string Name { get; }

    Task SendAsync(IReadOnlyList<SyncItem> items, CancellationToken cancellationToken);
}

/// <summary>A refusal of the backend, with what it said: not worth retrying at once when <see cref="Permanent"/> (a 4xx other than 408/429).</summary>
internal sealed class SyncRefusedException : Exception
{
    public SyncRefusedException(string message, bool permanent)
        : base(message) => Permanent = permanent;

    public SyncRefusedException()
    {
    }

    public SyncRefusedException(string message)
        : base(message)
    {
    }

    public SyncRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public bool Permanent { get; }
}

/// <summary>
/// The seed's HTTP backend: <c>POST {url}/api/station/sync</c> with
/// <c>{"station", "items": [{"key", "entity", "id", "action", "payload"}]}</c>, the API key as a bearer
/// token, the batch's first and last key as <c>Idempotency-Key</c>. Any 2xx takes every item; the
/// backend drops an item whose key it already has.
/// </summary>
internal sealed class HttpSyncTarget(string station, Uri url, string? apiKey) : ISyncTarget
{
    private readonly HttpClient _http = new() { Timeout = System.Threading.Timeout.InfiniteTimeSpan }; // the pipeline's timeout bounds each attempt

    public string Name => "http";

    public async Task SendAsync(IReadOnlyList<SyncItem> items, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["station"] = station,
            ["items"] = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject
            {
                ["key"] = i.Key,
                ["entity"] = i.Entity,
                ["id"] = i.EntityId,
                ["action"] = i.Action,
                ["payload"] = JsonNode.Parse(i.Payload),
            })]),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, "api/station/sync"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (apiKey is { Length: > 0 })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        request.Headers.Add("Idempotency-Key", $"{items[0].Key}..{items[^1].Key}");
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new SyncRefusedException($"{url} answered {status} {response.ReasonPhrase}: {(text.Length > 200 ? text[..200] + "…" : text)}",
                permanent: status is >= 400 and < 500 and not (408 or 429));
        }
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A central PostgreSQL results database for a fleet of stations: <c>station_executions</c> and
/// <c>station_steps</c>, keyed by (station, id), created when missing. A batch of items is one
/// transaction: an execution's row is inserted or updated, a step's inserted unless it is already
/// there — so a batch sent again changes nothing, and stations never touch each other's rows.
/// </summary>
internal sealed class PostgresSyncTarget(string connectionString) : ISyncTarget
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS station_executions (
            station_id text NOT NULL, id text NOT NULL, batch_id text, sequence_name text, sequence_version text, dut_serial text,
            started_at timestamptz, completed_at timestamptz, status text, verdict text, parameters jsonb, error_code text, error_message text,
            synced_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (station_id, id));
        CREATE TABLE IF NOT EXISTS station_steps (
            station_id text NOT NULL, id text NOT NULL, execution_id text NOT NULL, step_group text, step_index integer, step_name text, attempts integer,
            started_at timestamptz, completed_at timestamptz, duration_ms double precision, status text, measurement_name text,
            measurement_value double precision, measurement_text text, units text, limits text, marginal boolean, error_code text, error_message text,
            reply text, synced_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (station_id, id));
        """;

    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);
    private bool _schemaReady;

    public string Name => "postgres";

    public async Task SendAsync(IReadOnlyList<SyncItem> items, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (!_schemaReady)
        {
            // Two stations creating the tables at once: the advisory lock makes one wait for the other.
            await using var create = new NpgsqlCommand("SELECT pg_advisory_lock(7461); " + Schema + " SELECT pg_advisory_unlock(7461);", connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            _schemaReady = true;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var item in items)
        {
            var row = JsonNode.Parse(item.Payload)!.AsObject();
            await using var command = item.Entity == "execution" ? Execution(row) : Step(row);
            command.Connection = connection;
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static NpgsqlCommand Execution(JsonObject row)
    {
        var command = new NpgsqlCommand("""
            INSERT INTO station_executions (station_id, id, batch_id, sequence_name, sequence_version, dut_serial, started_at, completed_at, status, verdict, parameters, error_code, error_message)
            VALUES (@station, @id, @batch, @sequence, @version, @serial, @started, @completed, @status, @verdict, @parameters, @code, @message)
            ON CONFLICT (station_id, id) DO UPDATE SET
                batch_id = EXCLUDED.batch_id, sequence_name = EXCLUDED.sequence_name, sequence_version = EXCLUDED.sequence_version, dut_serial = EXCLUDED.dut_serial,
                started_at = EXCLUDED.started_at, completed_at = EXCLUDED.completed_at, status = EXCLUDED.status, verdict = EXCLUDED.verdict,
                parameters = EXCLUDED.parameters, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, synced_at = now()
            """);
        Text(command, "station", row, "station_id");
        Text(command, "id", row, "id");
        Text(command, "batch", row, "batch_id");
        Text(command, "sequence", row, "sequence_name");
        Text(command, "version", row, "sequence_version");
        Text(command, "serial", row, "dut_serial");
        Time(command, "started", row, "started_at");
        Time(command, "completed", row, "completed_at");
        Text(command, "status", row, "status");
        Text(command, "verdict", row, "verdict");
        command.Parameters.Add(new NpgsqlParameter("parameters", NpgsqlDbType.Jsonb) { Value = (object?)row["parameters"]?.ToJsonString() ?? DBNull.Value });
        Text(command, "code", row, "error_code");
        Text(command, "message", row, "error_message");
        return command;
    }

    private static NpgsqlCommand Step(JsonObject row)
    {
        var command = new NpgsqlCommand("""
            INSERT INTO station_steps (station_id, id, execution_id, step_group, step_index, step_name, attempts, started_at, completed_at, duration_ms, status,
                measurement_name, measurement_value, measurement_text, units, limits, marginal, error_code, error_message, reply)
            VALUES (@station, @id, @execution, @group, @index, @name, @attempts, @started, @completed, @duration, @status,
                @mname, @mvalue, @mtext, @units, @limits, @marginal, @code, @message, @reply)
            ON CONFLICT (station_id, id) DO NOTHING
            """);
        Text(command, "station", row, "station_id");
        Text(command, "id", row, "id");
        Text(command, "execution", row, "execution_id");
        Text(command, "group", row, "step_group");
        command.Parameters.AddWithValue("index", row["step_index"]?.GetValue<int>() ?? 0);
        Text(command, "name", row, "step_name");
        command.Parameters.AddWithValue("attempts", row["attempts"]?.GetValue<int>() ?? 1);
        Time(command, "started", row, "started_at");
        Time(command, "completed", row, "completed_at");
        command.Parameters.AddWithValue("duration", row["duration_ms"]?.GetValue<double>() ?? 0);
        Text(command, "status", row, "status");
        Text(command, "mname", row, "measurement_name");
        command.Parameters.Add(new NpgsqlParameter("mvalue", NpgsqlDbType.Double) { Value = (object?)row["measurement_value"]?.GetValue<double>() ?? DBNull.Value });
        Text(command, "mtext", row, "measurement_text");
        Text(command, "units", row, "units");
        Text(command, "limits", row, "limits");
        command.Parameters.Add(new NpgsqlParameter("marginal", NpgsqlDbType.Boolean) { Value = (object?)row["marginal"]?.GetValue<bool>() ?? DBNull.Value });
        Text(command, "code", row, "error_code");
        Text(command, "message", row, "error_message");
        Text(command, "reply", row, "reply");
        return command;
    }

    private static void Text(NpgsqlCommand command, string name, JsonObject row, string field) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = (object?)row[field]?.GetValue<string>() ?? DBNull.Value });

    private static void Time(NpgsqlCommand command, string name, JsonObject row, string field) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.TimestampTz)
        {
            Value = row[field]?.GetValue<string>() is { } text ? DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal) : DBNull.Value,
        });
}
