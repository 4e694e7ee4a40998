using Microsoft.Data.Sqlite;
using PluginHost.Contracts.Testing;
using PluginHost.Plugins.StationBatch.Results;
using PluginHost.Station.Protocol;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>The master's record in the station's results database: taken once, in order, atomically with its result and sync rows.</summary>
public sealed class ExecutionRecordsTests : IDisposable
{
    private readonly TempDirectory _dir = new("records");
    private readonly List<ExecutionRecords> _open = [];

    public void Dispose()
    {
        foreach (var records in _open)
        {
            records.Dispose();
        }

        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private string Database => _dir.Combine("results.db");

    private ExecutionRecords Open(string? path = null)
    {
        var records = new ExecutionRecords(path ?? Database, "st1", "b1", TimeProvider.System);
        _open.Add(records);
        return records;
    }

    private static Envelope Event(long seq, string type = MessageTypes.StepComplete) =>
        new(type, "b1") { Execution = "b1-x", Sequence = seq, Body = new() { ["n"] = seq } };

    [Fact]
    public void Only_the_next_number_is_taken_so_resends_and_gaps_are_not()
    {
        var records = Open();

        Assert.True(records.TryTake(Event(1)));
        Assert.False(records.TryTake(Event(1)));  // sent again: already taken
        Assert.False(records.TryTake(Event(3)));  // a gap: 2 comes first
        Assert.True(records.TryTake(Event(2)));
        Assert.True(records.TryTake(Event(3)));
        records.Commit();

        Assert.Equal([1L, 2L, 3L], records.Load("b1-x").Select(r => r["seq"]!.GetValue<long>()));
    }

    [Fact]
    public void A_new_master_knows_what_was_taken_from_the_file_alone()
    {
        var first = Open();
        first.TryTake(Event(1));
        first.TryTake(Event(2));
        first.Commit();

        var second = Open();

        Assert.Equal(2, second.Last("b1-x"));
        Assert.False(second.TryTake(Event(2)));
        Assert.True(second.TryTake(Event(3)));
    }

    [Fact]
    public void A_commit_writes_the_events_their_result_rows_and_their_sync_rows_together()
    {
        var records = Open();
        records.TryTake(new Envelope(MessageTypes.SequenceStart, "b1") { Execution = "b1-x", Sequence = 1, Body = new() { ["sequence"] = "pcb", ["version"] = "1.2", ["parameters"] = new System.Text.Json.Nodes.JsonObject { ["dut_serial"] = "SN-7" } } });
        records.TryTake(new Envelope(MessageTypes.StepComplete, "b1")
        {
            Execution = "b1-x", Sequence = 2,
            Body = new() { ["group"] = "main", ["index"] = 0, ["step"] = "rail", ["outcome"] = "PASS", ["attempts"] = 1, ["durationMs"] = 12.5,
                ["measurement"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "v", ["value"] = 3.31, ["units"] = "V", ["limits"] = "3.2 ≤ x ≤ 3.4", ["marginal"] = false } },
        });
        records.TryTake(new Envelope(MessageTypes.Log, "b1") { Execution = "b1-x", Sequence = 3, Body = new() { ["level"] = "info", ["message"] = "hello" } });
        records.TryTake(new Envelope(MessageTypes.SequenceComplete, "b1") { Execution = "b1-x", Sequence = 4, Body = new() { ["verdict"] = "PASS", ["stopped"] = false } });
        Assert.Equal(0L, Count("SELECT COUNT(*) FROM events")); // nothing before the commit

        records.Commit();

        Assert.Equal(4L, Count("SELECT COUNT(*) FROM events"));
        Assert.Equal("st1|b1|pcb|1.2|SN-7|completed|PASS", Row("SELECT station_id || '|' || batch_id || '|' || sequence_name || '|' || sequence_version || '|' || dut_serial || '|' || status || '|' || verdict FROM execution_results"));
        Assert.Equal("rail|PASS|v|3.31|V|0", Row("SELECT step_name || '|' || status || '|' || measurement_name || '|' || measurement_value || '|' || units || '|' || marginal FROM step_results"));
        Assert.Equal("hello", Row("SELECT message FROM logs"));
        Assert.Equal("execution:create|step:create|execution:update", Row("SELECT group_concat(entity_type || ':' || action, '|') FROM (SELECT * FROM sync_queue ORDER BY id)"));
        Assert.Equal("st1:b1-x:1|st1:b1-x:2|st1:b1-x:4", Row("SELECT group_concat(idempotency_key, '|') FROM (SELECT * FROM sync_queue ORDER BY id)"));
    }

    [Fact]
    public void Records_a_part_one_master_kept_as_json_lines_are_moved_into_the_database_once()
    {
        var folder = _dir.Combine("executions");
        _dir.Write("executions/b1-old.jsonl", """
            {"seq":1,"type":"STEP_COMPLETE","at":"2026-11-30T10:00:00Z","body":{"step":"a","outcome":"PASS"}}
            {"seq":2,"type":"SEQUENCE_COMPLETE","at":"2026-11-30T10:00:01Z","body":{"verdict":"PASS"}}
            {"seq":3,"type":"STEP_CO
            """);
        var records = Open();

        records.ImportJsonLines(folder);

        Assert.Equal(2, records.Last("b1-old"));
        Assert.Equal("completed", Row("SELECT status FROM execution_results WHERE id = 'b1-old'"));
        Assert.False(Directory.Exists(folder));
        Assert.True(Directory.Exists(folder + ".imported"));
        records.ImportJsonLines(folder); // nothing left to import: no second copy
        Assert.Equal(2L, Count("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public void A_database_of_a_newer_schema_is_refused_rather_than_written()
    {
        using (var connection = new SqliteConnection($"Data Source={Database};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<InvalidOperationException>(() => Open());
        Assert.Contains("schema 99, newer than this plugin's", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_execution_left_unfinished_is_ended_as_aborted_once()
    {
        var records = Open();
        records.TryTake(Event(1));
        records.Commit();

        Assert.Equal(["b1-x"], records.Unfinished());
        Assert.Equal(2, records.Abort("b1-x", "worker killed"));
        Assert.Empty(records.Unfinished());
        Assert.Equal(MessageTypes.SequenceAborted, records.Load("b1-x")[^1]["type"]!.GetValue<string>());
    }

    [Fact]
    public void What_was_taken_but_not_committed_does_not_count_after_a_failed_commit()
    {
        var records = Open();
        records.TryTake(Event(1));
        records.Commit();
        records.TryTake(Event(2));
        records.TryTake(Event(3));
        Execute("CREATE TRIGGER full BEFORE INSERT ON events WHEN NEW.seq = 3 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");

        Assert.Throws<SqliteFailure>(records.Commit);

        Assert.Equal(1, records.Last("b1-x")); // read again: event 2 was rolled back with 3
        Assert.Equal(1L, Count("SELECT COUNT(*) FROM events"));
        Assert.Equal(0L, Count("SELECT COUNT(*) FROM step_results WHERE id = 'b1-x:2'"));
        Execute("DROP TRIGGER full");
        Assert.True(records.TryTake(Event(2)));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    public void An_execution_id_that_is_not_a_plain_name_is_refused(string id)
    {
        var records = Open();

        Assert.Throws<ArgumentException>(() => records.TryTake(new Envelope(MessageTypes.Log, "b1") { Execution = id, Sequence = 1 }));
        Assert.Equal(0L, Count("SELECT COUNT(*) FROM events"));
    }

    private long Count(string sql) => Convert.ToInt64(Query(sql), System.Globalization.CultureInfo.InvariantCulture);

    private string? Row(string sql) => Query(sql)?.ToString();

    private object? Query(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
