using System.Globalization;
using System.Text.Json.Nodes;

namespace PluginHost.Plugins.StationBatch.Results;

/// <summary>Filters of <c>GET /results</c>: each optional; time range on <c>started_at</c> (ISO 8601, UTC).</summary>
internal sealed record ResultsFilter(string? Batch, string? Serial, string? Status, DateTimeOffset? From, DateTimeOffset? To, int Limit, int Offset);

/// <summary>Reads results for the station's API: executions by filter, newest first, and one execution with its steps.</summary>
internal static class ResultsQuery
{
    private const string Columns = "id, station_id, batch_id, sequence_name, sequence_version, dut_serial, started_at, completed_at, status, verdict, parameters, error_code, error_message, synced_at";

    public static JsonObject List(string database, ResultsFilter filter)
    {
        var where = new List<string>();
        var values = new List<(string, object?)>();
        void Add(string clause, string name, object? value)
        {
            if (value is not null)
            {
                where.Add(clause);
                values.Add((name, value));
            }
        }

        Add("batch_id = $batch", "$batch", filter.Batch);
        Add("dut_serial = $serial", "$serial", filter.Serial);
        Add("(status = $status OR verdict = $status)", "$status", filter.Status);
        Add("started_at >= $from", "$from", filter.From?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        Add("started_at < $to", "$to", filter.To?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        var clause = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        using var db = ResultsDatabase.Open(database);
        using var count = db.Prepare("SELECT COUNT(*) FROM execution_results" + clause);
        using var page = db.Prepare($"SELECT {Columns} FROM execution_results{clause} ORDER BY started_at DESC, id LIMIT $limit OFFSET $offset");
        foreach (var (name, value) in values)
        {
            count.Bind(name, value);
            page.Bind(name, value);
        }

        page.Bind("$limit", filter.Limit).Bind("$offset", filter.Offset);
        var total = count.Step() ? count.Int64(0) : 0;
        var items = new JsonArray();
        while (page.Step())
        {
            items.Add(Execution(page));
        }

        return new JsonObject { ["total"] = total, ["limit"] = filter.Limit, ["offset"] = filter.Offset, ["items"] = items };
    }

    /// <summary>One execution with its steps (measurements, limits, errors) in order; null when there is none of that id.</summary>
    public static JsonObject? One(string database, string id)
    {
        using var db = ResultsDatabase.Open(database);
        using var execution = db.Prepare($"SELECT {Columns} FROM execution_results WHERE id = $id").Bind("$id", id);
        if (!execution.Step())
        {
            return null;
        }

        var result = Execution(execution);
        using var steps = db.Prepare("""
            SELECT id, step_group, step_index, step_name, attempts, started_at, completed_at, duration_ms, status, measurement_name, measurement_value,
                   measurement_text, units, limits, marginal, error_code, error_message, reply
            FROM step_results WHERE execution_id = $id ORDER BY completed_at, id
            """).Bind("$id", id);
        var list = new JsonArray();
        while (steps.Step())
        {
            var step = new JsonObject
            {
                ["id"] = steps.Text(0),
                ["group"] = steps.Text(1),
                ["index"] = steps.Int64(2),
                ["name"] = steps.Text(3),
                ["attempts"] = steps.Int64(4),
                ["started_at"] = steps.Text(5),
                ["completed_at"] = steps.Text(6),
                ["duration_ms"] = steps.Double(7),
                ["status"] = steps.Text(8),
                ["reply"] = steps.Text(17),
            };
            if (steps.Text(9) is { } name)
            {
                step["measurement"] = new JsonObject
                {
                    ["name"] = name,
                    ["value"] = steps.IsNull(10) ? steps.Text(11) : steps.Double(10),
                    ["units"] = steps.Text(12),
                    ["limits"] = steps.Text(13),
                    ["marginal"] = !steps.IsNull(14) && steps.Int64(14) == 1,
                };
            }

            if (steps.Text(15) is { } code)
            {
                step["error"] = new JsonObject { ["code"] = code, ["message"] = steps.Text(16) };
            }

            list.Add(step);
        }

        result["steps"] = list;
        return result;
    }

    private static JsonObject Execution(SqliteFile.Statement row) => new()
    {
        ["id"] = row.Text(0),
        ["station_id"] = row.Text(1),
        ["batch_id"] = row.Text(2),
        ["sequence_name"] = row.Text(3),
        ["sequence_version"] = row.Text(4),
        ["dut_serial"] = row.Text(5),
        ["started_at"] = row.Text(6),
        ["completed_at"] = row.Text(7),
        ["status"] = row.Text(8),
        ["verdict"] = row.Text(9),
        ["parameters"] = row.Text(10) is { } p ? JsonNode.Parse(p) : null,
        ["error_code"] = row.Text(11),
        ["error_message"] = row.Text(12),
        ["synced_at"] = row.Text(13),
    };
}
