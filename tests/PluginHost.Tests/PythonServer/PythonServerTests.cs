using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.PythonServer;

/// <summary>
/// The python-server plugin against a real uvicorn + FastAPI app (Debian's python3-uvicorn and
/// python3-fastapi, seen only by /usr/bin/python3; .ci/run installs them), under the real host.
/// </summary>
public sealed class PythonServerTests : IAsyncLifetime
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new("python-server");
    private readonly HttpClient _http = new();
    private HostProcess? _host;

    public Task InitializeAsync()
    {
        Prerequisite.PythonWithUvicorn();
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("python-server"), _dir.Combine("plugins"));
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins: { directories: [../plugins], watch: false }\nmanifests: { watch: false }\n");
        _dir.Write("app/main.py", File.ReadAllText(Path.Combine(RepositoryLayout.Root, "samples", "hello-api", "main.py")));
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

    private async Task StartHostAsync(string unitYaml)
    {
        _dir.Write("manifests/api.yaml", unitYaml);
        var port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{port}");
        await Eventually.TrueAsync(() => Unit() is not null, Deadline, "the host to answer\n" + _host.Output);
    }

    private JsonElement? Unit()
    {
        return _http.GetFromJsonAsync<JsonElement>("/api/units/api").Result;
    }

    private async Task<JsonElement> ReadyAsync(int? notPid = null)
    {
        JsonElement ready = default;
        try
        {
            await Eventually.TrueAsync(() => Unit() is { } u && (u.GetProperty("state").GetString() == "failed"
                    ? throw new Xunit.Sdk.XunitException($"the server failed instead of getting ready: {u.GetProperty("lastError")}")
                    : u.GetProperty("state").GetString() == "ready" && u.GetProperty("pid").GetInt32() != notPid && (ready = u).ValueKind == JsonValueKind.Object),
                Deadline, "the server to be ready");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // What the unit and the host said at the deadline, not when the wait began.
            throw new Xunit.Sdk.XunitException($"{ex.Message}\nunit: {Unit()}\nhost output:\n{_host!.Output}");
        }

        return ready;
    }

    private static string Manifest(string extra = "", string python = Python, int? port = null) => $$"""
        apiVersion: pluginhost/v1
        kind: python-server
        name: api
        spec: { app: main:app, appDir: ../app, python: {{python}}{{(port is null ? "" : $", port: {port}")}} }
        {{extra}}
        """;

    [Fact]
    public async Task Start_serve_restart_crash_and_stop_with_the_port_freed_and_nothing_left()
    {
        await StartHostAsync(Manifest(port: HostProcess.FreePort()));
        var first = await ReadyAsync();
        var port = first.GetProperty("ports").GetProperty("http").GetInt32();
        using var app = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var hello = await app.GetFromJsonAsync<JsonElement>("/");

        // Restart through the plugin's own operation, waiting: the seed's {success, message, status}.
        var restartAnswer = await (await _http.PostAsJsonAsync("/api/units/api/ops/restart", new { wait = true })).Content.ReadFromJsonAsync<JsonElement>();
        var restarted = await ReadyAsync(notPid: first.GetProperty("pid").GetInt32());
        var helloAgain = await app.GetFromJsonAsync<JsonElement>("/");

        Kill(restarted.GetProperty("pid").GetInt32());
        var recovered = await ReadyAsync(notPid: restarted.GetProperty("pid").GetInt32());
        var status = await (await _http.PostAsJsonAsync("/api/units/api/ops/status", new { })).Content.ReadFromJsonAsync<JsonElement>();

        // Stop through the plugin's operation, waiting: it answers once the server is gone, port freed.
        var stopAnswer = await (await _http.PostAsJsonAsync("/api/units/api/ops/stop", new { wait = true })).Content.ReadFromJsonAsync<JsonElement>();
        var portFreeWhenAnswered = Liveness.PortIsFree(port);

        Assert.Equal("world", hello.GetProperty("hello").GetString());
        Assert.Equal(first.GetProperty("pid").GetInt32(), hello.GetProperty("pid").GetInt32());
        Assert.Equal(restarted.GetProperty("pid").GetInt32(), helloAgain.GetProperty("pid").GetInt32());
        Assert.Equal(port, recovered.GetProperty("ports").GetProperty("http").GetInt32());
        var data = status.GetProperty("data");
        Assert.Equal(("running", recovered.GetProperty("pid").GetInt32(), port), (data.GetProperty("status").GetString(), data.GetProperty("pid").GetInt32(), data.GetProperty("port").GetInt32()));
        Assert.Contains(data.GetProperty("logs").EnumerateArray(), l => l.GetString()!.Contains("Uvicorn running on", StringComparison.Ordinal));
        Assert.True(stopAnswer.GetProperty("success").GetBoolean(), stopAnswer.ToString());
        Assert.Equal("stopped", stopAnswer.GetProperty("data").GetProperty("status").GetString());
        Assert.True(portFreeWhenAnswered, $"port {port} was still held when stop answered");
        Assert.False(Liveness.IsAlive(recovered.GetProperty("pid").GetInt32()));
        var events = (await _http.GetFromJsonAsync<JsonElement>("/api/events/recent?unit=api")).EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToArray();
        Assert.Contains("python-server-ready", events);
        var stopped = (await _http.GetFromJsonAsync<JsonElement>("/api/events/recent?unit=api")).EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "python-server-stopped").Select(e => e.GetProperty("payload")).Select(p => p.GetProperty("signal").GetString() ?? $"code {p.GetProperty("code").GetInt32()}").ToArray();
        Assert.Equal(["code 0", "SIGKILL", "code 0"], stopped); // restart (uvicorn exits 0 on SIGTERM), kill -9, stop
        Assert.Contains("python-server-status", events);
        Assert.True(restartAnswer.GetProperty("success").GetBoolean(), restartAnswer.ToString());
        var restartStatus = restartAnswer.GetProperty("data");
        Assert.Equal(("running", restarted.GetProperty("pid").GetInt32(), port),
            (restartStatus.GetProperty("status").GetString(), restartStatus.GetProperty("pid").GetInt32(), restartStatus.GetProperty("port").GetInt32()));
        var logEvents = (await _http.GetFromJsonAsync<JsonElement>("/api/events/recent?unit=api")).EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "python-log").Select(e => e.GetProperty("payload")).ToArray();
        Assert.Contains(logEvents, p => p.GetProperty("line").GetString()!.Contains("Uvicorn running on", StringComparison.Ordinal) && p.GetProperty("stream").GetString() == "stderr");
    }

    [Fact]
    public async Task An_app_with_a_syntax_error_is_an_error_with_the_traceback_in_the_last_error()
    {
        _dir.Write("app/main.py", "from fastapi import FastAPI\napp = FastAPI(\ndef broken(:\n");
        await StartHostAsync(Manifest());

        JsonElement error = default;
        await Eventually.TrueAsync(() => Unit() is { } u && u.GetProperty("lastError").ValueKind == JsonValueKind.Object && (error = u.GetProperty("lastError")).ValueKind != JsonValueKind.Undefined,
            Deadline, "the failure to be reported\n" + _host!.Output);

        Assert.Equal("APP_IMPORT_FAILED", error.GetProperty("code").GetString());
        Assert.Contains("SyntaxError", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("main.py", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_python_that_cannot_import_uvicorn_is_named_with_the_remedy_and_a_python_that_can()
    {
        // A real interpreter that does not see Debian's dist-packages: -I -S leave site-packages out.
        _dir.Write("bin/bare-python", $"#!/bin/sh\nexec {Python} -I -S \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_dir.Combine("bin", "bare-python"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        await StartHostAsync(Manifest(python: "../bin/bare-python"));

        JsonElement error = default;
        await Eventually.TrueAsync(() => Unit() is { } u && u.GetProperty("lastError").ValueKind == JsonValueKind.Object && (error = u.GetProperty("lastError")).ValueKind != JsonValueKind.Undefined,
            Deadline, "the failure to be reported\n" + _host!.Output);

        Assert.Equal("UVICORN_NOT_FOUND", error.GetProperty("code").GetString());
        Assert.Contains("bare-python cannot import uvicorn", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains($"set spec.python: {Python}", error.GetProperty("remedy").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_taken_preferred_port_moves_the_server_to_the_next_free_one()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        await StartHostAsync(Manifest(port: taken));

        var ready = await ReadyAsync();
        var port = ready.GetProperty("ports").GetProperty("http").GetInt32();
        using var app = new HttpClient();
        var hello = await app.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{port}/");

        Assert.NotEqual(taken, port);
        Assert.InRange(port, taken + 1, taken + 10);
        Assert.Equal("world", hello.GetProperty("hello").GetString());
    }

    [Fact]
    public async Task A_graceful_stop_lets_an_in_flight_request_finish()
    {
        await StartHostAsync(Manifest());
        var ready = await ReadyAsync();
        var port = ready.GetProperty("ports").GetProperty("http").GetInt32();
        using var app = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var slow = app.GetAsync("/slow?seconds=2");
        await Eventually.TrueAsync(() => RecentLogs().Any(l => l.StartsWith("slow request started", StringComparison.Ordinal)), Deadline, "the request to be in the app");
        await _http.PostAsync("/api/units/api/stop", null);
        var response = await slow;
        await Eventually.TrueAsync(() => Unit() is { } u && u.GetProperty("state").GetString() == "stopped", Deadline, "the server to stop");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2.0, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("slept").GetDouble());
    }

    [Fact]
    public async Task A_slow_starting_app_stays_starting_until_it_serves()
    {
        _dir.Write("app/main.py", "import time\ntime.sleep(2)\nfrom fastapi import FastAPI\napp = FastAPI()\n");
        await StartHostAsync(Manifest());

        await Eventually.TrueAsync(() => Unit() is { } u && u.GetProperty("state").GetString() == "starting" && u.GetProperty("pid").ValueKind == JsonValueKind.Number,
            Deadline, "the process to be spawned");
        var starting = Unit()!.Value;
        var ready = await ReadyAsync();

        Assert.Equal(starting.GetProperty("pid").GetInt32(), ready.GetProperty("pid").GetInt32());
        Assert.Equal(0, ready.GetProperty("restarts").GetInt32());
    }

    private IEnumerable<string> RecentLogs() =>
        _http.GetFromJsonAsync<JsonElement>("/api/units/api/logs?tail=100").Result.EnumerateArray().Select(l => l.GetProperty("text").GetString()!);

    private static void Kill(int pid) => System.Diagnostics.Process.GetProcessById(pid).Kill();


}
