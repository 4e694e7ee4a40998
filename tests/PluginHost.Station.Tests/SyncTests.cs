using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using PluginHost.Contracts.Testing;
using PluginHost.Plugins.StationBatch.Results;
using PluginHost.Station.Protocol;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>The station-sync process (real, built) sending a real results database to backends that fail as real ones do.</summary>
public sealed class SyncTests : IAsyncLifetime
{
    private const string ApiKey = "k3y-th4t-must-n0t-leak";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("sync");
    private readonly SyncProcesses _processes = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _processes.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Results_reach_an_http_backend_once_each_and_in_order_through_500s_timeouts_and_an_outage()
    {
        var database = _dir.Combine("results.db");
        var written = Seed(database, "st1", executions: 3, steps: 20); // 3 × (create + 20 steps + update)
        await using var backend = new FakeBackend { Behaviour = FakeBackend.Mode.ServerError };
        backend.Start();
        var (sync, output) = Start(Settings(database, "http", url: backend.Url.ToString(), apiKeyEnv: "STATION_BACKEND_API_KEY"), ("STATION_BACKEND_API_KEY", ApiKey));

        await Eventually.TrueAsync(() => Scalar(database, "SELECT COALESCE(MAX(retry_count), 0) FROM sync_queue") >= 2, Deadline, "the 500s counted on the rows\n" + output);
        Assert.Contains("500", Text(database, "SELECT last_error FROM sync_state"), StringComparison.Ordinal);
        Assert.Equal(written, Scalar(database, "SELECT COUNT(*) FROM sync_queue")); // nothing leaves before the backend took it

        backend.Behaviour = FakeBackend.Mode.Slow;
        await Eventually.TrueAsync(() => Text(database, "SELECT last_error FROM sync_state")?.Contains("in time", StringComparison.Ordinal) == true, Deadline, "a timeout recorded\n" + output);

        await backend.StopAsync();
        await Eventually.TrueAsync(() => Text(database, "SELECT last_error FROM sync_state")?.Contains("cannot be reached", StringComparison.Ordinal) == true, Deadline, "the outage recorded\n" + output);
        Assert.Equal(0, Scalar(database, "SELECT connected FROM sync_state"));

        backend.Behaviour = FakeBackend.Mode.Ok;
        backend.Start();
        await Eventually.TrueAsync(() => Scalar(database, "SELECT COUNT(*) FROM sync_queue") == 0, Deadline, "the queue sent once the backend is back\n" + output);

        var taken = backend.Taken;
        Assert.Equal(written, taken.Count);
        foreach (var execution in taken.GroupBy(i => i["payload"]!["execution_id"]?.GetValue<string>() ?? i["id"]!.GetValue<string>()))
        {
            var keys = execution.Select(i => long.Parse(i["key"]!.GetValue<string>().Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(keys.Order(), keys); // an execution's rows arrive in the order they were written
        }

        Assert.Equal(3, Scalar(database, "SELECT COUNT(*) FROM execution_results WHERE synced_at IS NOT NULL"));
        Assert.Equal(1, Scalar(database, "SELECT connected FROM sync_state"));
        Assert.All(backend.Authorizations, a => Assert.Equal($"Bearer {ApiKey}", a));
        Assert.DoesNotContain(ApiKey, output.ToString(), StringComparison.Ordinal);
        await StopAsync(sync);
        Assert.DoesNotContain(ApiKey, File.ReadAllText(_dir.Combine("sync.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sync_killed_mid_round_resends_at_most_what_the_backend_already_has_and_the_backend_keeps_one_of_each()
    {
        var database = _dir.Combine("results.db");
        var written = Seed(database, "st1", executions: 10, steps: 50);
        await using var backend = new FakeBackend();
        backend.Start();
        for (var round = 0; round < 3 && Scalar(database, "SELECT COUNT(*) FROM sync_queue") > 0; round++)
        {
            var (sync, _) = Start(Settings(database, "http", url: backend.Url.ToString(), batchSize: 7));
            await Eventually.TrueAsync(() => backend.Taken.Count > (round + 1) * written / 4 || Scalar(database, "SELECT COUNT(*) FROM sync_queue") == 0, Deadline, "a part sent");
            sync.Kill(); // SIGKILL: between the backend's answer and the row's removal, at times
            await sync.WaitForExitAsync();
        }

        var (last, output) = Start(Settings(database, "http", url: backend.Url.ToString()));
        await Eventually.TrueAsync(() => Scalar(database, "SELECT COUNT(*) FROM sync_queue") == 0, Deadline, "the rest sent\n" + output);

        Assert.Equal(written, backend.Taken.Count);
        Assert.Equal(written, backend.Taken.Select(i => i["key"]!.GetValue<string>()).Distinct().Count());
        await StopAsync(last);
    }

    [Fact]
    public async Task Sigterm_flushes_what_the_backend_takes_then_exits_zero()
    {
        var database = _dir.Combine("results.db");
        await using var backend = new FakeBackend();
        backend.Start();
        var (sync, output) = Start(Settings(database, "http", url: backend.Url.ToString(), intervalMs: 60_000));
        await Eventually.TrueAsync(() => output.ToString().Contains("sync to http", StringComparison.Ordinal), Deadline, "the sender started\n" + output);
        var written = Seed(database, "st1", executions: 1, steps: 5); // after its first round: only the flush at stop sends these

        await StopAsync(sync);

        Assert.Equal(written, backend.Taken.Count);
        Assert.Contains($"flushed {written} row(s), 0 left", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Writes executions as a master does, and returns how many sync rows they made.</summary>
    internal static long Seed(string database, string station, int executions, int steps, string batch = "b1")
    {
        using var records = new ExecutionRecords(database, station, batch, TimeProvider.System);
        for (var e = 0; e < executions; e++)
        {
            var id = $"{batch}-{station}-{e}-{Guid.NewGuid():N}"[..40];
            var seq = 1L;
            records.TryTake(new Envelope(MessageTypes.SequenceStart, batch) { Execution = id, Sequence = seq++, Body = new() { ["sequence"] = "pcb", ["version"] = "1.0", ["parameters"] = new JsonObject { ["dut_serial"] = $"SN-{e}" } } });
            for (var s = 0; s < steps; s++)
            {
                records.TryTake(new Envelope(MessageTypes.StepComplete, batch)
                {
                    Execution = id,
                    Sequence = seq++,
                    Body = new() { ["group"] = "main", ["index"] = s, ["step"] = $"s{s}", ["outcome"] = "PASS", ["attempts"] = 1, ["durationMs"] = 1.5, ["measurement"] = new JsonObject { ["name"] = "v", ["value"] = 3.3 + (s / 1000.0), ["units"] = "V", ["limits"] = "3 ≤ x ≤ 4", ["marginal"] = false } },
                });
            }

            records.TryTake(new Envelope(MessageTypes.SequenceComplete, batch) { Execution = id, Sequence = seq, Body = new() { ["verdict"] = "PASS", ["stopped"] = false } });
            records.Commit();
        }

        return executions * (steps + 2L);
    }

    private string Settings(string database, string target, string? url = null, string? apiKeyEnv = null, string? connectionEnv = null, int intervalMs = 200, int batchSize = 25)
    {
        var path = _dir.Combine("sync.json");
        File.WriteAllText(path, new JsonObject
        {
            ["database"] = database,
            ["station"] = "st1",
            ["target"] = target,
            ["url"] = url,
            ["apiKeyEnv"] = apiKeyEnv,
            ["connectionEnv"] = connectionEnv,
            ["intervalMs"] = intervalMs,
            ["timeoutMs"] = 500,
            ["batchSize"] = batchSize,
        }.ToJsonString());
        return path;
    }

    private (Process Process, StringBuilder Output) Start(string settings, params (string Name, string Value)[] environment) => _processes.Start(settings, environment);

    private static async Task StopAsync(Process sync)
    {
        _ = kill(sync.Id, 15);
        using var deadline = new CancellationTokenSource(Deadline);
        await sync.WaitForExitAsync(deadline.Token);
        Assert.Equal(0, sync.ExitCode);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    internal static long Scalar(string database, string sql) => Convert.ToInt64(Query(database, sql) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);

    internal static string? Text(string database, string sql) => Query(database, sql)?.ToString();

    private static object? Query(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}

/// <summary>Several stations syncing into one real PostgreSQL database.</summary>
public sealed class PostgresSyncTests : IAsyncLifetime
{
    private readonly PostgresServer _server = new();
    private readonly SyncProcesses _sync = new();
    private readonly TempDirectory _dir = new("pg-sync");

    public Task InitializeAsync() => _server.StartAsync();

    public async Task DisposeAsync()
    {
        _sync.Dispose();
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Three_stations_sync_into_one_database_at_once_without_conflicts_and_a_resend_changes_nothing()
    {
        string[] stations = ["st1", "st2", "st3"];
        var written = new Dictionary<string, long>();
        var running = new List<(System.Diagnostics.Process Process, System.Text.StringBuilder Output, string Database)>();
        foreach (var station in stations)
        {
            var database = _dir.Combine(station, "results.db");
            written[station] = SyncTests.Seed(database, station, executions: 4, steps: 30, batch: "line1"); // the same batch name on every station
            var settings = _dir.Write($"{station}/sync.json", new System.Text.Json.Nodes.JsonObject
            {
                ["database"] = database, ["station"] = station, ["target"] = "postgres", ["connectionEnv"] = "STATION_RESULTS_DB",
                ["intervalMs"] = 200, ["timeoutMs"] = 5000, ["batchSize"] = 20,
            }.ToJsonString());
            var (process, output) = _sync.Start(settings, ("STATION_RESULTS_DB", _server.ConnectionString()));
            running.Add((process, output, database));
        }

        foreach (var (_, output, database) in running)
        {
            await Eventually.TrueAsync(() => SyncTests.Scalar(database, "SELECT COUNT(*) FROM sync_queue") == 0, TimeSpan.FromSeconds(60), "every row sent\n" + output);
        }

        await using var central = new Npgsql.NpgsqlConnection(_server.ConnectionString());
        await central.OpenAsync();
        async Task<long> Count(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, central);
            return (long)(await command.ExecuteScalarAsync())!;
        }

        Assert.Equal(12, await Count("SELECT COUNT(*) FROM station_executions"));
        Assert.Equal(3 * 4 * 30, await Count("SELECT COUNT(*) FROM station_steps"));
        foreach (var station in stations)
        {
            Assert.Equal(4, await Count($"SELECT COUNT(*) FROM station_executions WHERE station_id = '{station}' AND status = 'completed' AND verdict = 'PASS'"));
            Assert.Equal(120, await Count($"SELECT COUNT(*) FROM station_steps WHERE station_id = '{station}' AND measurement_value IS NOT NULL"));
        }

        // A resend (a sender that died between the commit and removing its rows): nothing changes.
        var again = running[0].Database;
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={again};Pooling=False"))
        {
            db.Open();
            using var copy = db.CreateCommand();
            copy.CommandText = "INSERT INTO sync_queue (entity_type, entity_id, action, payload, idempotency_key) SELECT 'step', id, 'create', json_object('id', id, 'station_id', 'st1', 'execution_id', execution_id, 'step_name', step_name, 'status', 'FAIL'), 'again:' || id FROM step_results";
            Assert.Equal(120, copy.ExecuteNonQuery());
        }

        await Eventually.TrueAsync(() => SyncTests.Scalar(again, "SELECT COUNT(*) FROM sync_queue") == 0, TimeSpan.FromSeconds(60), "the resend sent");
        Assert.Equal(3 * 4 * 30, await Count("SELECT COUNT(*) FROM station_steps"));
        Assert.Equal(0, await Count("SELECT COUNT(*) FROM station_steps WHERE status = 'FAIL'")); // a step row, once taken, is never rewritten
    }
}

/// <summary>Built station-sync processes a test starts; every one is ended when the test ends.</summary>
internal sealed class SyncProcesses : IDisposable
{
    private static readonly string Program = Path.Combine(RepositoryLayout.Root, "artifacts", "station-sync", "station-sync.dll");
    private readonly List<Process> _processes = [];

    public (Process Process, StringBuilder Output) Start(string settings, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo(StationPaths.Dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Program, "--config", settings })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return (process, output);
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }
    }
}
