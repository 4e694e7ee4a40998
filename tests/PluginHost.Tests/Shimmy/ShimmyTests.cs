using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Processes;
using PluginHost.Plugins.Shimmy.Tests;
using Xunit;

namespace PluginHost.Tests.Shimmy;

/// <summary>
/// The shimmy plugin under the real host, with tests/fixtures/fake-shimmy standing in for the
/// binary (same command line, a real HTTP server on the allocated port, failure knobs).
/// </summary>
public sealed partial class ShimmyTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string FakeShimmy = Path.Combine(RepositoryLayout.Root, "tests", "fixtures", "fake-shimmy", "shimmy");
    private readonly TempDirectory _dir = new("shimmy");
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(100) };
    private HostProcess? _host;

    public Task InitializeAsync()
    {
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("shimmy"), _dir.Combine("plugins"));
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("process"), _dir.Combine("plugins"));
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins: { directories: [../plugins], watch: false }\nmanifests: { watch: false }\n");
        _dir.Write("models/m.gguf", "not really a model");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _http.Dispose();
        _dir.Dispose();
    }

    private string Record => _dir.Combine("starts.jsonl");

    private string Manifest(string name, string spec, string env = "", string extra = "", int? port = null, string accel = "cpu") => $$"""
        apiVersion: pluginhost/v1
        kind: shimmy
        name: {{name}}
        spec: { binary: {{FakeShimmy}}, modelsDir: ../models, accel: {{accel}}, port: {{port ?? HostProcess.FreePort()}}, {{spec}} }
        env: { FAKE_SHIMMY_RECORD: {{Record}}{{env}} }
        {{extra}}
        """;

    private async Task StartHostAsync(IReadOnlyDictionary<string, string>? environment = null, params (string Name, string Yaml)[] units)
    {
        foreach (var (name, yaml) in units)
        {
            _dir.Write($"manifests/{name}.yaml", yaml);
        }

        var port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _host = HostProcess.Start(_dir.Path, environment, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{port}");
        await Eventually.TrueAsync(() => Unit(units[0].Name) is not null, Deadline, "the host to answer\n" + _host.Output);
    }

    private JsonElement? Unit(string name)
    {
        return _http.GetFromJsonAsync<JsonElement>($"/api/units/{name}").Result;
    }

    private async Task<JsonElement> OpAsync(string unit, string op) =>
        await (await _http.PostAsJsonAsync($"/api/units/{unit}/ops/{op}", new { })).Content.ReadFromJsonAsync<JsonElement>();

    private async Task<string[]> EventKindsAsync(string unit) =>
        [.. (await _http.GetFromJsonAsync<JsonElement>($"/api/events/recent?unit={unit}")).EnumerateArray().Select(e => e.GetProperty("kind").GetString()!)];

    private async Task<JsonElement[]> EventsAsync(string unit, string kind) =>
        [.. (await _http.GetFromJsonAsync<JsonElement>($"/api/events/recent?unit={unit}")).EnumerateArray().Where(e => e.GetProperty("kind").GetString() == kind).Select(e => e.GetProperty("payload"))];

    private string[] Starts() => File.Exists(Record) ? File.ReadAllLines(Record) : [];

    [Fact]
    public async Task It_waits_for_ensureReady_serves_concurrent_callers_with_one_start_and_stop_frees_port_process_and_files()
    {
        await StartHostAsync(null,
            ("llm", Manifest("llm", "model: m.gguf", ", FAKE_SHIMMY_DELAY: \"0.5\"")),
            ("witness", "apiVersion: pluginhost/v1\nkind: process\nname: witness\nspec: { command: /bin/sleep, args: [\"300\"] }\n"));
        // A unit that autostarts is ready: the host has started what it starts, and shimmy is not among them.
        await Eventually.TrueAsync(() => Unit("witness") is { } w && w.GetProperty("state").GetString() == "ready", Deadline, "the witness unit");
        var idle = Unit("llm")!.Value;
        var startsBefore = Starts().Length;

        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => OpAsync("llm", "ensureReady")));
        var port = answers[0].GetProperty("data").GetProperty("port").GetInt32();
        var pid = answers[0].GetProperty("data").GetProperty("pid").GetInt32();
        var runtime = _dir.Combine("data", "units", "llm", "run");
        var filesWhileRunning = Directory.GetFiles(runtime).Select(f => Path.GetFileName(f)).Order().ToArray();
        using var shimmy = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var models = await shimmy.GetFromJsonAsync<JsonElement>("/v1/models");
        var getPort = await OpAsync("llm", "getPort");

        await OpAsync("llm", "stop");
        await Eventually.TrueAsync(() => Unit("llm") is { } u && u.GetProperty("state").GetString() == "stopped", Deadline, "shimmy to stop");
        // The plugin cleans its runtime folder when told of the stop, which it is just after the transition.
        await Eventually.TrueAsync(() => !Directory.Exists(runtime), Deadline, "the runtime folder (lock, socket, temporary files) to be removed after stop");

        Assert.Equal(("idle", 0), (idle.GetProperty("state").GetString(), startsBefore));
        Assert.All(answers, a => Assert.True(a.GetProperty("success").GetBoolean(), a.ToString()));
        Assert.All(answers, a => Assert.Equal((port, pid), (a.GetProperty("data").GetProperty("port").GetInt32(), a.GetProperty("data").GetProperty("pid").GetInt32())));
        var start = JsonDocument.Parse(Assert.Single(Starts())).RootElement;
        var argv = start.GetProperty("argv").EnumerateArray().Select(a => a.GetString()!).ToArray();
        Assert.Equal(["--gpu-backend", "cpu", "serve", "--bind", $"127.0.0.1:{port}"], argv[2..7]);
        Assert.Equal(_dir.Combine("models", "m.gguf"), start.GetProperty("env").GetProperty("SHIMMY_BASE_GGUF").GetString());
        Assert.Equal("m.gguf", models.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(port, getPort.GetProperty("data").GetProperty("port").GetInt32());
        Assert.Equal(["shimmy.lock", "shimmy.sock"], filesWhileRunning);
        Assert.False(Liveness.IsAlive(pid));
        Assert.True(Liveness.PortIsFree(port));
        var kinds = await EventKindsAsync("llm");
        Assert.Single(kinds, k => k == "shimmy_ready");
        Assert.Single(await EventsAsync("llm", "unit_state"), s => s.GetProperty("to").GetString() == "starting");
        Assert.Equal(["starting", "ready", "stopping", "idle"], (await EventsAsync("llm", "shimmy_state")).Select(s => s.GetProperty("state").GetString()!));
    }

    [Fact]
    public async Task A_start_timeout_gets_one_restart_then_fails_with_START_TIMEOUT_and_a_notification()
    {
        await StartHostAsync(null, ("llm", Manifest("llm", "startTimeout: 1s", ", FAKE_SHIMMY_NEVER_READY: \"1\"", "restart: { backoff: { initial: 100ms }, minInterval: 0s }")));

        var answer = await OpAsync("llm", "ensureReady");
        var unit = Unit("llm")!.Value;

        Assert.False(answer.GetProperty("success").GetBoolean(), answer.ToString());
        Assert.Equal("START_TIMEOUT", answer.GetProperty("code").GetString());
        // The first start and exactly one restart, counted by the host: the fake's own record may
        // miss a start killed at the timeout before Python got as far as writing it (a loaded CI machine).
        Assert.Equal(2, (await EventsAsync("llm", "unit_state")).Count(s => s.GetProperty("to").GetString() == "starting"));
        Assert.Equal(("failed", "START_TIMEOUT"), (unit.GetProperty("state").GetString(), unit.GetProperty("lastError").GetProperty("code").GetString()));
        var notice = Assert.Single(await EventsAsync("llm", "shimmy_failed"));
        Assert.Equal("START_TIMEOUT", notice.GetProperty("code").GetString());
        Assert.All(Starts(), s => Assert.False(Liveness.IsAlive(JsonDocument.Parse(s).RootElement.GetProperty("pid").GetInt32())));
    }

    [Fact]
    public async Task Failing_health_checks_are_HEALTHCHECK_FAILED_with_the_output_and_shimmy_is_restarted()
    {
        var sick = _dir.Combine("sick");
        await StartHostAsync(null, ("llm", Manifest("llm", "model: m.gguf", $", FAKE_SHIMMY_SICK_FILE: {sick}",
            "health: { liveness: { http: /v1/models, interval: 100ms, failureThreshold: 2 } }\nrestart: { backoff: { initial: 100ms }, minInterval: 0s }")));
        var first = (await OpAsync("llm", "ensureReady")).GetProperty("data").GetProperty("pid").GetInt32();

        await File.WriteAllTextAsync(sick, "");
        JsonElement error = default;
        await Eventually.TrueAsync(() => Unit("llm") is { } u && u.GetProperty("lastError") is { ValueKind: JsonValueKind.Object } e && (error = e).ValueKind != JsonValueKind.Undefined,
            Deadline, "the failed health check to be reported\n" + _host!.Output);
        File.Delete(sick);
        var again = await OpAsync("llm", "ensureReady");

        Assert.Equal("HEALTHCHECK_FAILED", error.GetProperty("code").GetString());
        Assert.Contains("model backend crashed", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(again.GetProperty("success").GetBoolean(), again.ToString());
        Assert.NotEqual(first, again.GetProperty("data").GetProperty("pid").GetInt32());
        Assert.False(Liveness.IsAlive(first));
    }

    [Fact]
    public async Task GPU_memory_from_nvidia_smi_is_on_the_units_status_in_metrics_and_in_the_status_operation()
    {
        var fakeSmi = Path.Combine(RepositoryLayout.Root, "tests", "fixtures", "fake-nvidia-smi");
        await StartHostAsync(
            new Dictionary<string, string> { ["PATH"] = fakeSmi + ":" + Environment.GetEnvironmentVariable("PATH"), ["FAKE_NVIDIA_SMI_RECORD"] = Record },
            ("llm", Manifest("llm", "model: m.gguf")));
        var idle = Unit("llm")!.Value;

        var pid = (await OpAsync("llm", "ensureReady")).GetProperty("data").GetProperty("pid").GetInt32();
        JsonElement gauges = default;
        await Eventually.TrueAsync(() => Unit("llm") is { } u && u.TryGetProperty("gauges", out gauges) && gauges.ValueKind == JsonValueKind.Object,
            Deadline, "the GPU memory on the unit's status\n" + _host!.Output);
        var metrics = await _http.GetStringAsync("/metrics");
        var status = await OpAsync("llm", "status");
        var (cliCode, cli) = await HostProcess.RunAsync(_dir.Path, "status", "llm", "--url", _http.BaseAddress!.ToString());
        await OpAsync("llm", "stop");
        await Eventually.TrueAsync(() => Unit("llm") is { } u && u.GetProperty("state").GetString() == "stopped", Deadline, "shimmy to stop");

        Assert.Equal(JsonValueKind.Null, idle.GetProperty("gauges").ValueKind);
        Assert.Equal(1536d * 1024 * 1024, gauges.GetProperty("gpu_memory_bytes").GetDouble());
        Assert.Contains("# TYPE pluginhost_unit_gpu_memory_bytes gauge\n", metrics, StringComparison.Ordinal);
        Assert.Contains("pluginhost_unit_gpu_memory_bytes{unit=\"llm\"} 1610612736\n", metrics, StringComparison.Ordinal);
        Assert.Equal((pid, 1536), (status.GetProperty("data").GetProperty("pid").GetInt32(), status.GetProperty("data").GetProperty("gpuMemoryMb").GetInt32()));
        Assert.Equal(0, cliCode);
        Assert.Contains("gpu_memory_bytes=1610612736", cli, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, Unit("llm")!.Value.GetProperty("gauges").ValueKind);
    }

    [Fact]
    public async Task Taken_ports_move_shimmy_along_its_scan_until_PORT_IN_USE_and_an_accelerator_the_machine_lacks_is_UNSUPPORTED_ACCEL()
    {
        var (first, held) = HoldPortBlock(11);
        try
        {
            await StartHostAsync(null,
                ("moved", Manifest("moved", "model: m.gguf, portScan: 20", port: first)),
                ("blocked", Manifest("blocked", "model: m.gguf, portScan: 10", port: first)),
                ("metal", Manifest("metal", "model: m.gguf, allowCpuFallback: false", accel: "metal")));

            var moved = await OpAsync("moved", "ensureReady");
            var blocked = await OpAsync("blocked", "ensureReady");
            var metal = await OpAsync("metal", "ensureReady");

            Assert.True(moved.GetProperty("success").GetBoolean(), moved.ToString());
            Assert.InRange(moved.GetProperty("data").GetProperty("port").GetInt32(), first + 11, first + 20); // the 11 taken ones skipped
            Assert.False(blocked.GetProperty("success").GetBoolean(), blocked.ToString());
            Assert.Equal("PORT_IN_USE", blocked.GetProperty("code").GetString());
            Assert.StartsWith("Another application is using the local port.", blocked.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(("failed", "PORT_IN_USE"), (Unit("blocked")!.Value.GetProperty("state").GetString(), Unit("blocked")!.Value.GetProperty("lastError").GetProperty("code").GetString()));
            Assert.False(metal.GetProperty("success").GetBoolean(), metal.ToString());
            Assert.Equal("UNSUPPORTED_ACCEL", metal.GetProperty("code").GetString()); // Metal exists on macOS only
            Assert.StartsWith("The selected acceleration option is not available on this device.", metal.GetProperty("message").GetString(), StringComparison.Ordinal);
            // A preflight refusal is the unit's own failure, on every surface, as after `start`.
            var metalUnit = Unit("metal")!.Value;
            Assert.Equal(("failed", "UNSUPPORTED_ACCEL"), (metalUnit.GetProperty("state").GetString(), metalUnit.GetProperty("lastError").GetProperty("code").GetString()));
            Assert.Equal(metal.GetProperty("remedy").GetString(), metalUnit.GetProperty("lastError").GetProperty("remedy").GetString());
            Assert.Single(Starts()); // neither refusal started a process

            // `pluginhost status` (the table) says what to do about each error below the table.
            var (statusCode, table) = await HostProcess.RunAsync(_dir.Path, "status", "--url", _http.BaseAddress!.ToString());
            var remedy = Unit("blocked")!.Value.GetProperty("lastError").GetProperty("remedy").GetString()!;
            var plain = AnsiEscape().Replace(table, "").ReplaceLineEndings(" ");
            Assert.Equal(1, statusCode); // a unit failed
            Assert.Contains("blocked → " + remedy, plain, StringComparison.Ordinal);
        }
        finally
        {
            held.ForEach(l => l.Dispose());
        }
    }

    [Fact]
    public async Task EnsureReady_and_start_fail_a_missing_shimmy_the_same_way_on_every_surface()
    {
        string Missing(string name) => $"apiVersion: pluginhost/v1\nkind: shimmy\nname: {name}\nspec: {{ binary: no-such-shimmy, modelsDir: ../models, model: m.gguf, port: {HostProcess.FreePort()} }}\n";
        await StartHostAsync(null, ("viaop", Missing("viaop")), ("viastart", Missing("viastart")));

        var answer = await OpAsync("viaop", "ensureReady");
        (await _http.PostAsync("/api/units/viastart/start", null)).Dispose();
        await Eventually.TrueAsync(() => Unit("viastart")!.Value.GetProperty("state").GetString() == "failed", Deadline, "the started unit to fail");

        Assert.Equal("SHIMMY_NOT_FOUND", answer.GetProperty("code").GetString());
        foreach (var name in new[] { "viaop", "viastart" })
        {
            var unit = Unit(name)!.Value;
            Assert.Equal(("failed", "SHIMMY_NOT_FOUND"), (unit.GetProperty("state").GetString(), unit.GetProperty("lastError").GetProperty("code").GetString()));
            Assert.Equal(answer.GetProperty("remedy").GetString(), unit.GetProperty("lastError").GetProperty("remedy").GetString());
            var failed = (await EventsAsync(name, "unit_state")).Last();
            Assert.Equal(("failed", "SHIMMY_NOT_FOUND"), (failed.GetProperty("to").GetString(), failed.GetProperty("error").GetProperty("code").GetString()));
        }
    }

    [Fact]
    public async Task A_download_that_cannot_complete_is_DOWNLOAD_FAILED_after_its_retries_and_nothing_starts()
    {
        var nobody = HostProcess.FreePort(); // nothing listens there
        await StartHostAsync(null, ("llm", Manifest("llm", $"model: fresh.gguf, download: {{ url: \"http://127.0.0.1:{nobody}/fresh.gguf\", retries: 1 }}")));

        var answer = await OpAsync("llm", "ensureReady");

        Assert.False(answer.GetProperty("success").GetBoolean(), answer.ToString());
        Assert.Equal("DOWNLOAD_FAILED", answer.GetProperty("code").GetString());
        Assert.Contains("after 2 attempts", answer.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Combine("models", "fresh.gguf")));
        Assert.Empty(Starts());
    }

    /// <summary>Listens on <paramref name="count"/> consecutive loopback ports.</summary>
    private static (int First, List<TcpListener> Held) HoldPortBlock(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var first = HostProcess.FreePort();
            var held = new List<TcpListener>();
            try
            {
                foreach (var port in Enumerable.Range(first, count))
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    held.Add(listener);
                }

                return (first, held);
            }
            catch (SocketException)
            {
                held.ForEach(l => l.Dispose());
            }
        }

        throw new InvalidOperationException("no block of free ports found");
    }

    [Fact]
    public async Task A_missing_model_is_downloaded_by_ensureReady_resuming_a_broken_transfer_and_errors_speak_Korean_under_a_Korean_locale()
    {
        var model = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        await using var server = await ModelServer.StartAsync(model, breakFirst: 1, breakAfterBytes: 512 * 1024);
        var sha = Convert.ToHexStringLower(SHA256.HashData(model));
        await StartHostAsync(new Dictionary<string, string> { ["LANG"] = "ko_KR.UTF-8", ["LC_ALL"] = "ko_KR.UTF-8" },
            ("llm", Manifest("llm", $"model: fresh.gguf, download: {{ url: \"{server.Url}\", sha256: {sha} }}")),
            ("nomodel", Manifest("nomodel", "model: absent.gguf")));

        var missing = await OpAsync("nomodel", "ensureReady");
        var ready = await OpAsync("llm", "ensureReady");

        Assert.False(missing.GetProperty("success").GetBoolean());
        Assert.Equal("MODEL_NOT_FOUND", missing.GetProperty("code").GetString());
        Assert.Equal(("failed", "MODEL_NOT_FOUND"), (Unit("nomodel")!.Value.GetProperty("state").GetString(), Unit("nomodel")!.Value.GetProperty("lastError").GetProperty("code").GetString()));
        Assert.StartsWith("선택한 모델이 설치되어 있지 않습니다.", missing.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(ready.GetProperty("success").GetBoolean(), ready.ToString() + "\n" + _host!.Output);
        Assert.Equal(model, await File.ReadAllBytesAsync(_dir.Combine("models", "fresh.gguf")));
        Assert.Equal(2, server.Ranges.Count);
        Assert.StartsWith("bytes=", server.Ranges.Last(), StringComparison.Ordinal);
        var progress = await EventsAsync("llm", "shimmy_download_progress");
        Assert.Equal(model.Length, progress[^1].GetProperty("bytes").GetInt64());
        var done = Assert.Single(await EventsAsync("llm", "shimmy_download_done"));
        Assert.Equal((2, true), (done.GetProperty("attempts").GetInt32(), done.GetProperty("verified").GetBoolean()));
        Assert.Contains(JsonDocument.Parse(Assert.Single(Starts())).RootElement.GetProperty("argv").EnumerateArray(), a => a.GetString() == _dir.Combine("models", "fresh.gguf"));
    }

    /// <summary>Spectre.Console colours its output when it thinks the terminal can show it.</summary>
    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}
