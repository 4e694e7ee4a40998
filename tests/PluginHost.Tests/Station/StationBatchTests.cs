using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Station;

/// <summary>
/// Station batches through the real host: worker processes, NetMQ sockets, the simulated
/// instruments; the master's record of each execution read back through the API.
/// </summary>
public sealed class StationBatchTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = HostUnderTest.Deadline;
    private static readonly string Drivers = Path.Combine(RepositoryLayout.Root, "artifacts", "drivers");
    private static readonly string Worker = Path.Combine(RepositoryLayout.Root, "artifacts", "station-worker");
    private static readonly string Sample = Path.Combine(RepositoryLayout.Root, "samples", "station", "pcb-power");
    private readonly HostUnderTest _host = new("station");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();

        // A worker a crashed host left to the next one is no host's child: should a test fail before
        // its clean stop, its workers are ended here, found by the test's folder on their command line.
        foreach (var pid in WorkersOf(_host.Dir.Path))
        {
            Core.Processes.LibC.kill(pid, 9);
        }
    }

    private static int[] WorkersOf(string folder) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ReadCommandLine(pid).Contains(folder, StringComparison.Ordinal) && ReadCommandLine(pid).Contains("station-worker", StringComparison.Ordinal))];

    private static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
    }

    [Fact]
    public async Task A_batch_runs_its_sequence_and_the_master_records_every_event_once_in_order()
    {
        WriteBatch("line1", Sample);
        var host = _host.Start();
        await WaitReadyAsync("line1", host);

        var execution = await StartSequenceAsync("line1", new { dut_serial = "SN-0042" });
        var records = await WaitForEndAsync("line1", execution, host);

        Assert.Equal(Enumerable.Range(1, records.Length).Select(i => (long)i), records.Select(r => r.GetProperty("seq").GetInt64()));
        Assert.Equal(["identify_psu", "power_on", "input_voltage", "settle", "rail_3v3", "rail_5v0", "rail_1v8", "psu_errors", "power_off"], StepsCompleted(records));
        var end = records[^1];
        Assert.Equal(("SEQUENCE_COMPLETE", "FAIL"), (end.GetProperty("type").GetString(), end.GetProperty("body").GetProperty("verdict").GetString()));

        // The same events on the host's stream, with the plugin's one-line summaries.
        await Eventually.TrueAsync(() => _host.Events("station_sequence_complete").Length == 1, Deadline, "the event on the host's stream");
        var steps = _host.Events("station_step_complete");
        Assert.Contains(steps, e => e.GetProperty("summary").GetString() is { } s && s.StartsWith("rail_1v8: FAIL (v_1v8 = ", StringComparison.Ordinal));

        var status = await OperationAsync("line1", "status", new { });
        Assert.Equal(("idle", "FAIL"), (status.GetProperty("data").GetProperty("state").GetString(), status.GetProperty("data").GetProperty("lastVerdict").GetString()));
    }

    [Fact]
    public async Task Commands_that_cannot_be_obeyed_are_coded_errors_and_the_batch_stays_ready()
    {
        WriteBatch("line1", Sample);
        var host = _host.Start();
        await WaitReadyAsync("line1", host);

        var badParameter = await _host.Http.PostAsJsonAsync("/api/units/line1/ops/startSequence", new { @params = new { vin = 99 } });
        var unknownSlot = await _host.Http.PostAsJsonAsync("/api/units/line1/ops/manual", new { slot = "scope", command = "*IDN?" });
        var manual = await OperationAsync("line1", "manual", new { slot = "psu", command = "*IDN?" });

        Assert.Equal("INVALID_PARAMETERS", await CodeAsync(badParameter));
        Assert.Equal("SLOT_NOT_BOUND", await CodeAsync(unknownSlot));
        Assert.Equal("PluginHost,SIM-PSU,SIM0007,1.0", manual.GetProperty("data").GetProperty("reply").GetString());
        Assert.True(_host.UnitIs("line1", "ready"));
    }

    [Fact]
    public async Task Kill_9_of_the_host_mid_sequence_loses_no_event_and_takes_none_twice_and_the_worker_runs_on()
    {
        WriteBatch("line1", SlowPackage(steps: 40, wait: "100ms"));
        var first = _host.Start();
        var pid = (await WaitReadyAsync("line1", first)).GetProperty("pid").GetInt32();
        var execution = await StartSequenceAsync("line1", new { });
        await Eventually.TrueAsync(() => Records("line1", execution).Count(r => r.GetProperty("type").GetString() == "STEP_COMPLETE") >= 5, Deadline, "a few steps");

        first.Crash();
        await first.WaitForExitAsync(Deadline);
        await Task.Delay(TimeSpan.FromSeconds(1)); // the worker runs on alone: its events wait in its outbox
        var second = _host.Start();
        Assert.Equal(pid, (await WaitReadyAsync("line1", second)).GetProperty("pid").GetInt32());

        var records = await WaitForEndAsync("line1", execution, second);
        Assert.Equal(Enumerable.Range(1, records.Length).Select(i => (long)i), records.Select(r => r.GetProperty("seq").GetInt64()));
        Assert.Equal([.. Enumerable.Range(1, 40).Select(i => $"w{i}"), "power_off"], StepsCompleted(records));
        Assert.Equal("SEQUENCE_COMPLETE", records[^1].GetProperty("type").GetString());
        Assert.Equal(0, _host.Unit("line1")!.Value.GetProperty("restarts").GetInt32());

        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(Deadline));
        Assert.False(Liveness.IsAlive(pid), "the adopted worker outlived a clean host stop");
    }

    [Fact]
    public async Task Repeated_kill_9_of_the_host_mid_sequence_leaves_every_result_row_and_sync_row_exactly_once()
    {
        WriteBatch("line1", SlowPackage(steps: 60, wait: "100ms"));
        var host = _host.Start();
        await WaitReadyAsync("line1", host);
        var execution = await StartSequenceAsync("line1", new { });
        for (var kill = 1; kill <= 3; kill++)
        {
            var steps = 8 * kill;
            await Eventually.TrueAsync(() => Records("line1", execution).Count(r => r.GetProperty("type").GetString() == "STEP_COMPLETE") >= steps, Deadline, $"{steps} steps before kill {kill}");
            host.Crash(); // in the middle of the group commits: the worker sends what was not acknowledged again
            await host.WaitForExitAsync(Deadline);
            host = _host.Start();
            await WaitReadyAsync("line1", host);
        }

        var records = await WaitForEndAsync("line1", execution, host);
        host.Terminate();
        await host.WaitForExitAsync(Deadline);

        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_host.Dir.Combine("data", "plugin-data", "station-batch", "results.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        long Count(string sql)
        {
            using var command = db.CreateCommand();
            command.CommandText = sql;
            return (long)command.ExecuteScalar()!;
        }

        string[] expected = [.. Enumerable.Range(1, 60).Select(i => $"w{i}"), "power_off"];
        Assert.Equal(expected, StepsCompleted(records));
        Assert.Equal(records.Length, Count("SELECT COUNT(*) FROM events"));
        Assert.Equal(records.Length, Count("SELECT MAX(seq) FROM events"));
        Assert.Equal(expected.Length, Count("SELECT COUNT(*) FROM step_results"));
        Assert.Equal(expected.Length, Count("SELECT COUNT(DISTINCT step_name) FROM step_results"));
        Assert.Equal(expected.Length + 2, Count("SELECT COUNT(*) FROM sync_queue")); // each step, the execution's create and its update
        Assert.Equal(1, Count("SELECT COUNT(*) FROM execution_results WHERE status = 'completed' AND verdict = 'PASS'"));
    }

    [Fact]
    public async Task An_online_backup_taken_while_a_sequence_runs_opens_and_holds_every_row_committed_before_it()
    {
        WriteBatch("line1", SlowPackage(steps: 40, wait: "50ms"));
        var host = _host.Start();
        await WaitReadyAsync("line1", host);
        var execution = await StartSequenceAsync("line1", new { });
        await Eventually.TrueAsync(() => Records("line1", execution).Count(r => r.GetProperty("type").GetString() == "STEP_COMPLETE") >= 10, Deadline, "the execution under way");
        var backups = _host.Dir.Combine("backups");

        var (code, output) = await HostProcess.RunAsync(_host.Dir.Path, ["ops", "line1", "backup", "--dir", backups, "--url", $"http://127.0.0.1:{_host.Port}"]);
        var relative = await _host.Http.PostAsJsonAsync("/api/units/line1/ops/backup", new { dir = "relative/folder" });

        Assert.True(code == 0, output);
        Assert.Equal(HttpStatusCode.BadRequest, relative.StatusCode);
        var copy = Assert.Single(Directory.GetFiles(backups, "results-*.db"));
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={copy};Mode=ReadOnly;Pooling=False");
        db.Open();
        string Query(string sql)
        {
            using var command = db.CreateCommand();
            command.CommandText = sql;
            return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
        }

        Assert.Equal("ok", Query("PRAGMA integrity_check"));
        var events = long.Parse(Query("SELECT COUNT(*) FROM events"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(events >= 20, $"{events} events in the copy");
        Assert.Equal(events.ToString(System.Globalization.CultureInfo.InvariantCulture), Query("SELECT MAX(seq) FROM events")); // gapless: one snapshot
        Assert.Equal(Query("SELECT COUNT(*) FROM events WHERE type = 'STEP_COMPLETE'"), Query("SELECT COUNT(*) FROM step_results"));
        Assert.Equal(Query("SELECT COUNT(*) FROM step_results") , Query("SELECT COUNT(*) FROM sync_queue WHERE entity_type = 'step'"));
        await WaitForEndAsync("line1", execution, host); // the batch ran on meanwhile
    }

    [Fact]
    public async Task A_station_sync_unit_sends_the_batches_results_to_the_backend_on_demand_and_shows_the_queue_in_metrics()
    {
        using var backend = new System.Net.HttpListener();
        var backendPort = HostProcess.FreePort();
        backend.Prefixes.Add($"http://127.0.0.1:{backendPort}/");
        backend.Start();
        var received = new System.Collections.Concurrent.ConcurrentBag<string>();
        var authorization = "";
        using var stopBackend = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stopBackend.IsCancellationRequested)
            {
                var context = await backend.GetContextAsync().WaitAsync(stopBackend.Token);
                authorization = context.Request.Headers["Authorization"] ?? "";
                using var reader = new StreamReader(context.Request.InputStream);
                foreach (var item in JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.GetProperty("items").EnumerateArray())
                {
                    received.Add(item.GetProperty("key").GetString()!);
                }

                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });
        WriteBatch("line1", SlowPackage(steps: 5, wait: "10ms"));
        _host.Dir.Write("manifests/station-sync.yaml", $$"""
            apiVersion: pluginhost/v1
            kind: station-sync
            name: station-sync
            env:
              STATION_BACKEND_API_KEY: s3cr3t-sync-key
            spec:
              target: http
              url: http://127.0.0.1:{{backendPort}}
              apiKeyEnv: STATION_BACKEND_API_KEY
              interval: 1h
              program: {{Path.Combine(RepositoryLayout.Root, "artifacts", "station-sync")}}
            """);
        var host = _host.Start();
        await WaitReadyAsync("line1", host);
        await WaitReadyAsync("station-sync", host);

        var execution = await StartSequenceAsync("line1", new { });
        await WaitForEndAsync("line1", execution, host);
        var waiting = await OperationAsync("station-sync", "status", new { });
        // Gauges are sampled with CPU and RSS: wait for a sample taken after the run ended, not merely the first one.
        var metrics = await Eventually.WaitAsync(() => _host.Http.GetStringAsync("/metrics").Result is var text
            && System.Text.RegularExpressions.Regex.IsMatch(text, @"pluginhost_unit_sync_queue_depth\{[^}]*unit=""station-sync""[^}]*\} 8") ? text : null,
            Deadline, "the sender's gauges in /metrics, sampled after the run");
        var sync = await OperationAsync("station-sync", "sync", new { timeoutMs = 20_000 });
        var after = await OperationAsync("station-sync", "status", new { });

        Assert.Equal(8, waiting.GetProperty("data").GetProperty("queueDepth").GetInt64()); // create, 5 steps + teardown, update: the interval is an hour
        Assert.Matches(@"pluginhost_unit_sync_queue_depth\{[^}]*unit=""station-sync""[^}]*\} 8", metrics);
        Assert.Equal(0, sync.GetProperty("data").GetProperty("queueDepth").GetInt64());
        Assert.Equal(8, received.Distinct().Count());
        Assert.Equal("Bearer s3cr3t-sync-key", authorization);
        Assert.True(after.GetProperty("data").GetProperty("backendConnected").GetBoolean());
        Assert.DoesNotContain("s3cr3t-sync-key", await _host.Http.GetStringAsync("/api/units/station-sync"), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-sync-key", host.Output, StringComparison.Ordinal);
        await stopBackend.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => serving);
    }

    [Fact]
    public async Task The_station_api_lists_batches_runs_a_sequence_streams_it_to_a_subscriber_and_serves_its_results()
    {
        // Steps long enough that the second start below meets a running sequence (at 20 ms a step the
        // first run could end before it under load, and the second start then succeeded).
        WriteBatch("line1", SlowPackage(steps: 5, wait: "400ms"));
        var host = _host.Start();
        await WaitReadyAsync("line1", host);
        const string Api = "/plugins/station-batch/api";
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_host.Port}/plugins/station-batch/ws/"), CancellationToken.None);
        await SendAsync(socket, """{"type": "subscribe", "batch_ids": ["line1"]}""");
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());
        await SendAsync(socket, """{"type": "subscribe", "batch_ids": ["ghost"]}""");
        Assert.Equal("BatchNotFoundError", (await ReceiveAsync(socket)).GetProperty("code").GetString());

        var listed = await _host.Http.GetFromJsonAsync<JsonElement>($"{Api}/batches");
        var unknown = await _host.Http.GetAsync($"{Api}/batches/ghost");
        var started = await _host.Http.PostAsync($"{Api}/batches/line1/sequence/start", new StringContent("""{"parameters": {}}""", System.Text.Encoding.UTF8, "application/json"));
        var execution = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("execution").GetString()!;
        var again = await _host.Http.PostAsync($"{Api}/batches/line1/sequence/start", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var malformed = await _host.Http.PostAsync($"{Api}/batches/line1/manual", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        var messages = new List<JsonElement>();
        while (messages.LastOrDefault().ValueKind == JsonValueKind.Undefined || messages[^1].GetProperty("type").GetString() != "sequence_complete")
        {
            messages.Add(await ReceiveAsync(socket));
        }

        var results = await _host.Http.GetFromJsonAsync<JsonElement>($"{Api}/results?batch=line1&limit=10");
        var result = await _host.Http.GetFromJsonAsync<JsonElement>($"{Api}/results/{execution}");
        var badQuery = await _host.Http.GetAsync($"{Api}/results?from=yesterday");
        var health = await _host.Http.GetFromJsonAsync<JsonElement>($"{Api}/system/health");
        var noSync = await _host.Http.PostAsync($"{Api}/system/sync", null);

        Assert.Equal(("line1", "idle"), (listed[0].GetProperty("id").GetString(), listed[0].GetProperty("status").GetString()));
        Assert.Equal(("BatchNotFoundError", 404), (await ProblemCodeAsync(unknown), (int)unknown.StatusCode));
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal(("BatchAlreadyRunningError", 409), (await ProblemCodeAsync(again), (int)again.StatusCode));
        Assert.Equal(("InvalidRequestError", 400), (await ProblemCodeAsync(malformed), (int)malformed.StatusCode));
        Assert.Equal(6, messages.Count(m => m.GetProperty("type").GetString() == "step_complete"));
        Assert.All(messages, m => Assert.Equal("line1", m.GetProperty("batch_id").GetString()));
        Assert.Equal(1, results.GetProperty("total").GetInt64());
        Assert.Equal(("completed", "PASS"), (result.GetProperty("status").GetString(), result.GetProperty("verdict").GetString()));
        Assert.Equal(["w1", "w2", "w3", "w4", "w5", "power_off"], result.GetProperty("steps").EnumerateArray().Select(st => st.GetProperty("name").GetString()));
        Assert.Equal(("InvalidRequestError", 400), (await ProblemCodeAsync(badQuery), (int)badQuery.StatusCode));
        Assert.Equal(("ok", false), (health.GetProperty("status").GetString(), health.GetProperty("backend_connected").GetBoolean()));
        Assert.Equal("SyncNotConfiguredError", await ProblemCodeAsync(noSync));
        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Theory]
    [InlineData(null, "/api/batches", "/ws")]           // the seed's own paths, by default
    [InlineData("/station", "/station/api/batches", "/station/ws")]
    [InlineData("off", null, null)]
    public async Task The_station_api_is_also_at_the_seeds_paths_unless_host_yaml_moves_or_turns_them_off(string? mount, string? batches, string? socketPath)
    {
        WriteBatch("line1", SlowPackage(steps: 1, wait: "1ms"));
        if (mount is not null)
        {
            _host.Dir.Write("manifests/host.yaml", $"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{RepositoryLayout.Plugin("")}'], watch: false, mounts: {{ station-batch: {mount} }} }}\nmanifests: {{ watch: false }}\n");
        }

        var host = _host.Start();
        await WaitReadyAsync("line1", host);

        var seedPath = await _host.Http.GetAsync("/api/batches");
        var prefixed = await _host.Http.GetFromJsonAsync<JsonElement>("/plugins/station-batch/api/batches");
        var hostRoute = await _host.Http.GetFromJsonAsync<JsonElement>("/api/units");
        var unknown = await _host.Http.GetAsync("/api/nothing-here");

        Assert.Equal("line1", prefixed[0].GetProperty("id").GetString()); // the plugin's own prefix always serves
        Assert.Contains(hostRoute.EnumerateArray(), u => u.GetProperty("name").GetString() == "line1"); // the host's routes come first
        Assert.Equal("NOT_FOUND", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        if (batches is null)
        {
            Assert.Equal(HttpStatusCode.NotFound, seedPath.StatusCode);
            return;
        }

        var moved = await _host.Http.GetFromJsonAsync<JsonElement>(batches);
        Assert.Equal("line1", moved[0].GetProperty("id").GetString());
        Assert.Equal(batches == "/api/batches" ? HttpStatusCode.OK : HttpStatusCode.NotFound, seedPath.StatusCode);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_host.Port}{socketPath}"), CancellationToken.None);
        await SendAsync(socket, """{"type": "subscribe", "batch_ids": ["line1"]}""");
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());
        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    private static async Task<string?> ProblemCodeAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("remedy").GetString()));
        return problem.GetProperty("code").GetString();
    }

    private static Task SendAsync(System.Net.WebSockets.ClientWebSocket socket, string text) =>
        socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement> ReceiveAsync(System.Net.WebSockets.ClientWebSocket socket)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var buffer = new byte[64 * 1024];
        var length = 0;
        System.Net.WebSockets.WebSocketReceiveResult received;
        do
        {
            received = await socket.ReceiveAsync(buffer.AsMemory(length) is var m ? new ArraySegment<byte>(buffer, length, buffer.Length - length) : default, deadline.Token);
            length += received.Count;
        }
        while (!received.EndOfMessage);

        return JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
    }

    [Fact]
    public async Task A_batch_being_stopped_refuses_new_executions_while_its_teardown_runs()
    {
        var package = _host.Dir.Combine("packages", "long-teardown");
        Directory.CreateDirectory(package);
        File.WriteAllText(Path.Combine(package, "sequence.yaml"), "name: long-teardown\nhardware: { psu: {} }\nmain:\n  - { name: w, wait: 4s }\nteardown:\n  - { name: cool_down, wait: 3s }\n");
        WriteBatch("line1", package);
        var host = _host.Start();
        await WaitReadyAsync("line1", host);
        await StartSequenceAsync("line1", new { });

        using var stop = await _host.Http.PostAsync("/api/units/line1/stop", null);
        await Eventually.TrueAsync(() => _host.UnitIs("line1", "stopping"), Deadline, "line1 stopping (its teardown running)");
        var viaOperation = await _host.Http.PostAsJsonAsync("/api/units/line1/ops/startSequence", new { });
        var viaStationApi = await _host.Http.PostAsync("/api/batches/line1/sequence/start", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal("BATCH_STOPPING", await CodeAsync(viaOperation));
        Assert.Equal(("BatchStoppingError", 503), (await ProblemCodeAsync(viaStationApi), (int)viaStationApi.StatusCode));
        await Eventually.TrueAsync(() => _host.UnitIs("line1", "stopped"), Deadline, "line1 stopped after its teardown");
    }

    [Fact]
    public async Task Kill_9_of_one_worker_aborts_its_execution_and_restarts_it_while_the_other_batch_runs_on()
    {
        WriteBatch("line1", SlowPackage(steps: 30, wait: "100ms"));
        WriteBatch("line2", SlowPackage(steps: 30, wait: "100ms"));
        var host = _host.Start();
        var victim = (await WaitReadyAsync("line1", host)).GetProperty("pid").GetInt32();
        await WaitReadyAsync("line2", host);
        var doomed = await StartSequenceAsync("line1", new { });
        var survivor = await StartSequenceAsync("line2", new { });
        await Eventually.TrueAsync(() => Records("line1", doomed).Length >= 6, Deadline, "batch 1 to be under way");

        Core.Processes.LibC.kill(victim, 9);

        var aborted = await WaitForEndAsync("line1", doomed, host);
        Assert.Equal("SEQUENCE_ABORTED", aborted[^1].GetProperty("type").GetString());
        Assert.Contains("signal 9", aborted[^1].GetProperty("body").GetProperty("reason").GetString(), StringComparison.Ordinal);
        await Eventually.TrueAsync(() => _host.Unit("line1") is { } u && u.GetProperty("state").GetString() == "ready" && u.GetProperty("pid").GetInt32() != victim,
            Deadline, "batch 1's worker to be restarted");
        var other = await WaitForEndAsync("line2", survivor, host);
        Assert.Equal(("SEQUENCE_COMPLETE", 31), (other[^1].GetProperty("type").GetString(), StepsCompleted(other).Length));
        Assert.Equal(0, _host.Unit("line2")!.Value.GetProperty("restarts").GetInt32());
    }

    [Fact]
    public async Task A_hot_reload_of_the_plugin_mid_sequence_keeps_the_worker_and_every_event_exactly_once()
    {
        _host.CopyPlugins("station-batch");
        WriteBatch("line1", SlowPackage(steps: 30, wait: "100ms"), plugins: "../plugins");
        var host = _host.Start();
        var pid = (await WaitReadyAsync("line1", host)).GetProperty("pid").GetInt32();
        var execution = await StartSequenceAsync("line1", new { });
        await Eventually.TrueAsync(() => Records("line1", execution).Length >= 6, Deadline, "the execution to be under way");

        for (var i = 0; i < 3; i++)
        {
            using var reload = await _host.Http.PostAsync("/api/plugins/station-batch/reload", null);
            Assert.True(reload.IsSuccessStatusCode, await reload.Content.ReadAsStringAsync());
            await Task.Delay(TimeSpan.FromMilliseconds(300)); // a few steps between reloads
        }

        var records = await WaitForEndAsync("line1", execution, host);
        Assert.Equal(Enumerable.Range(1, records.Length).Select(i => (long)i), records.Select(r => r.GetProperty("seq").GetInt64()));
        Assert.Equal([.. Enumerable.Range(1, 30).Select(i => $"w{i}"), "power_off"], StepsCompleted(records));
        var unit = _host.Unit("line1")!.Value;
        Assert.Equal((pid, 0, "ready"), (unit.GetProperty("pid").GetInt32(), unit.GetProperty("restarts").GetInt32(), unit.GetProperty("state").GetString()));
        Assert.Equal(3, _host.Events("plugin_reloaded").Length);
        Assert.Empty(_host.Events("plugin_unload_leak"));
    }

    [Fact]
    public async Task A_rebuilt_driver_is_used_by_the_next_run_while_the_worker_runs_on_and_manual_control_answers_from_the_cli()
    {
        var drivers = _host.Dir.Combine("drivers");
        RepositoryLayout.CopyDirectory(Path.Combine(Drivers, "simulated"), Path.Combine(drivers, "simulated"));
        RepositoryLayout.CopyDirectory(Path.Combine(RepositoryLayout.Root, "artifacts", "test-plugins", "edition-driver-v1"), Path.Combine(drivers, "edition"));
        var package = _host.Dir.Combine("packages", "edition");
        Directory.CreateDirectory(package);
        File.WriteAllText(Path.Combine(package, "sequence.yaml"), "name: edition\nhardware: { ed: {} }\nmain:\n  - { name: which, query: { slot: ed, command: \"EDITION?\" } }\n");
        WriteBatch("line1", package, drivers: drivers, extraHardware: "ed: { driver: test-edition, connect: step }");
        var host = _host.Start();
        var pid = (await WaitReadyAsync("line1", host)).GetProperty("pid").GetInt32();
        string[] cli = ["--url", $"http://127.0.0.1:{_host.Port}"];

        var first = await WaitForEndAsync("line1", await StartSequenceAsync("line1", new { }), host);
        RepositoryLayout.CopyDirectory(Path.Combine(RepositoryLayout.Root, "artifacts", "test-plugins", "edition-driver-v2"), Path.Combine(drivers, "edition")); // the rebuild
        var second = await WaitForEndAsync("line1", await StartSequenceAsync("line1", new { }), host);
        var (readCode, read) = await HostProcess.RunAsync(_host.Dir.Path, ["ops", "line1", "manual", "--slot", "dmm", "--command", "MEAS:VOLT:DC? 5V0", .. cli]);
        var (typoCode, typo) = await HostProcess.RunAsync(_host.Dir.Path, ["ops", "line1", "manual", "--slot", "dmm", "--command", "MEAS:VOLTS?", .. cli]);

        Assert.Equal("1", Reply(first, "which"));
        Assert.Equal("2", Reply(second, "which"));
        Assert.Contains(second, r => r.GetProperty("type").GetString() == "LOG"
            && r.GetProperty("body").GetProperty("message").GetString()!.StartsWith($"equipment drivers changed under {drivers}: loaded anew", StringComparison.Ordinal));
        Assert.Equal((pid, 0), (_host.Unit("line1")!.Value.GetProperty("pid").GetInt32(), _host.Unit("line1")!.Value.GetProperty("restarts").GetInt32()));
        Assert.True(readCode == 0, read);
        Assert.Matches(@"""reply"":\s*""\+5\.1\d+E\+00""", read);
        Assert.Equal(1, typoCode);
        Assert.Contains("SCPI_ERROR -113", typo, StringComparison.Ordinal);
        Assert.Contains("did not understand the command", typo, StringComparison.Ordinal); // the remedy for its class
    }

    private static string Reply(JsonElement[] records, string step) =>
        records.Single(r => r.GetProperty("type").GetString() == "STEP_COMPLETE" && r.GetProperty("body").GetProperty("step").GetString() == step)
            .GetProperty("body").GetProperty("reply").GetString()!;

    private void WriteBatch(string name, string package, string? plugins = null, string? drivers = null, string extraHardware = "")
    {
        _host.WriteHostYaml(plugins);
        _host.Dir.Write($"manifests/{name}.yaml", $"""
            apiVersion: pluginhost/v1
            kind: station-batch
            name: {name}
            spec:
              sequence: {package}
              drivers: {drivers ?? Drivers}
              worker: {Worker}
              heartbeat: 300ms
              hardware:
                psu: {"{"} driver: sim-psu, options: {"{"} seed: "7" {"}"} {"}"}
                dmm: {"{"} driver: sim-dmm, options: {"{"} seed: "7", rails: "3V3=3.30,5V0=5.19,1V8=1.93" {"}"} {"}"}
                {extraHardware}
            """);
    }

    private string SlowPackage(int steps, string wait)
    {
        var folder = _host.Dir.Combine("packages", "slow");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "sequence.yaml"), "name: slow\nhardware: { psu: {} }\nmain:\n"
            + string.Concat(Enumerable.Range(1, steps).Select(i => $"  - {{ name: w{i}, wait: {wait} }}\n"))
            + "teardown:\n  - name: power_off\n    write: { slot: psu, command: \"OUTP OFF\" }\n");
        return folder;
    }

    private async Task<JsonElement> WaitReadyAsync(string unit, HostProcess host) =>
        (await Eventually.WaitAsync(() => _host.Unit(unit) is { } u && u.GetProperty("state").GetString() == "ready" ? (object)u : null, Deadline,
            $"{unit} to be ready\n{host.Output}") as JsonElement?)!.Value;

    private async Task<string> StartSequenceAsync(string unit, object parameters)
    {
        var answer = await OperationAsync(unit, "startSequence", new { @params = parameters });
        return answer.GetProperty("data").GetProperty("execution").GetString()!;
    }

    private async Task<JsonElement> OperationAsync(string unit, string op, object arguments)
    {
        using var response = await _host.Http.PostAsJsonAsync($"/api/units/{unit}/ops/{op}", arguments);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{op}: {(int)response.StatusCode} {body}");
        return body;
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();

    private JsonElement[] Records(string unit, string execution)
    {
        using var response = _host.Http.PostAsJsonAsync($"/api/units/{unit}/ops/execution", new { id = execution }).Result;
        response.EnsureSuccessStatusCode();
        return [.. response.Content.ReadFromJsonAsync<JsonElement>().Result.GetProperty("data").GetProperty("records").EnumerateArray()];
    }

    private async Task<JsonElement[]> WaitForEndAsync(string unit, string execution, HostProcess host) =>
        (await Eventually.WaitAsync(() => Records(unit, execution) is { Length: > 0 } r
            && r[^1].GetProperty("type").GetString() is "SEQUENCE_COMPLETE" or "SEQUENCE_ERROR" or "SEQUENCE_ABORTED" ? r : null,
            TimeSpan.FromSeconds(60), $"execution {execution} to end\n{host.Output}"))!;

    private static string[] StepsCompleted(JsonElement[] records) =>
        [.. records.Where(r => r.GetProperty("type").GetString() == "STEP_COMPLETE").Select(r => r.GetProperty("body").GetProperty("step").GetString()!)];
}
