using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Api;

/// <summary>One real host (the built executable) for the API tests of this class; stopped at the end.</summary>
public sealed class ApiHostFixture : IAsyncLifetime
{
    public const string Secret = "s3cr3t-value-9f8e7d";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("api");

    public HttpClient Http { get; } = new();

    internal HostProcess Host { get; private set; } = null!;

    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("process"), _dir.Combine("plugins"));
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("sample"), _dir.Combine("plugins"));
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins: { directories: [../plugins], watch: false }\nmanifests: { watch: false }\n");
        _dir.Write("manifests/talker.yaml", """
            apiVersion: pluginhost/v1
            kind: process
            name: talker
            env:
              API_KEY: s3cr3t-value-9f8e7d
              REGION: { value: eu-west, public: true }
            spec: { command: /bin/bash, args: ["-c", "i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.05; done"] }
            """);
        _dir.Write("manifests/sam.yaml", "apiVersion: pluginhost/v1\nkind: sample\nname: sam\nspec: { message: hi }\n");
        _dir.Write("manifests/off.yaml", "apiVersion: pluginhost/v1\nkind: sample\nname: off\nenabled: false\nspec: { message: hi }\n");
        Port = HostProcess.FreePort();
        Http.BaseAddress = new Uri($"http://127.0.0.1:{Port}");
        Host = HostProcess.Start(_dir.Path, ["run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{Port}"]);
        await Eventually.TrueAsync(() => Ready(), Deadline, "both units ready\n" + Host.Output);
    }

    private bool Ready()
    {
        var units = Http.GetFromJsonAsync<JsonElement>("/api/units").Result;
        return units.GetArrayLength() == 3 && units.EnumerateArray().Where(u => u.GetProperty("enabled").GetBoolean()).All(u => u.GetProperty("state").GetString() == "ready");
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Http.Dispose();
        _dir.Dispose();
    }
}

/// <summary>The HTTP API of a running host, as scripts and the CLI use it.</summary>
public sealed class ApiTests(ApiHostFixture host) : IClassFixture<ApiHostFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = host.Http;

    private async Task<JsonElement> GetAsync(string path) => await _http.GetFromJsonAsync<JsonElement>(path);

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        // RFC 9457: "status", when present, is the HTTP status code as a number; "title" is text.
        Assert.Equal(JsonValueKind.Number, problem.GetProperty("status").ValueKind);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(JsonValueKind.String, problem.GetProperty("title").ValueKind);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("remedy").GetString()));
        return problem;
    }

    [Fact]
    public async Task A_unit_status_record_has_every_field_the_design_promises()
    {
        var status = await GetAsync("/api/units/talker");

        foreach (var field in new[] { "name", "kind", "state", "pid", "ports", "startedAt", "uptimeSeconds", "restarts", "cpuPercent", "rssBytes", "lastError", "plugin" })
        {
            Assert.True(status.TryGetProperty(field, out _), $"status has {field}: {status}");
        }

        Assert.Equal("process", status.GetProperty("plugin").GetProperty("name").GetString());
        Assert.True(status.GetProperty("pid").GetInt32() > 0);
    }

    [Fact]
    public async Task Control_requests_answer_success_message_and_status_and_the_pid_changes_on_restart()
    {
        var before = (await GetAsync("/api/units/sam")).GetProperty("pid").GetInt32();

        var response = await _http.PostAsync("/api/units/sam/restart", null);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        await Eventually.TrueAsync(() =>
        {
            var status = GetAsync("/api/units/sam").Result;
            return status.GetProperty("state").GetString() == "ready" && status.GetProperty("pid").GetInt32() != before;
        }, Deadline, "a new process, ready");

        Assert.True(answer.GetProperty("success").GetBoolean());
        Assert.Contains("restart", answer.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("sam", answer.GetProperty("status").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Plugin_operations_are_listed_with_their_shape_and_their_arguments_are_checked_before_the_plugin_runs()
    {
        var ops = await GetAsync("/api/units/sam/ops");
        var echo = await _http.PostAsJsonAsync("/api/units/sam/ops/echo", new { text = "hallo" });
        var missing = await _http.PostAsJsonAsync("/api/units/sam/ops/echo", new { });
        var wrongType = await _http.PostAsJsonAsync("/api/units/sam/ops/echo", new { text = 5, extra = true });
        var notJson = await _http.PostAsync("/api/units/sam/ops/echo", new StringContent("{oops", Encoding.UTF8, "application/json"));
        var unknown = await _http.PostAsJsonAsync("/api/units/sam/ops/fly", new { });
        var processOps = await _http.PostAsJsonAsync("/api/units/talker/ops/echo", new { text = "x" });

        Assert.Equal(["version", "echo", "match", "refuse"], ops.EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        var parameter = ops[1].GetProperty("parameters")[0];
        Assert.Equal(("text", "string", true), (parameter.GetProperty("name").GetString(), parameter.GetProperty("type").GetString(), parameter.GetProperty("required").GetBoolean()));
        Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
        var echoed = await echo.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("hallo", echoed.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("INVALID_ARGUMENTS", (await ProblemAsync(missing, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        var wrong = await ProblemAsync(wrongType, HttpStatusCode.BadRequest);
        Assert.Equal(["\"extra\" is not an argument of echo (it takes text)", "\"text\" must be a string, found a number"],
            wrong.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).Order(StringComparer.Ordinal));
        Assert.Equal("INVALID_ARGUMENTS", (await ProblemAsync(notJson, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        var unknownProblem = await ProblemAsync(unknown, HttpStatusCode.NotFound);
        Assert.Equal("OPERATION_NOT_FOUND", unknownProblem.GetProperty("code").GetString());
        Assert.Contains("version, echo", unknownProblem.GetProperty("remedy").GetString(), StringComparison.Ordinal);
        Assert.Equal("OPERATION_NOT_FOUND", (await ProblemAsync(processOps, HttpStatusCode.NotFound)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_failed_operation_and_a_refused_request_are_RFC_9457_problems_with_the_unit_beside_them()
    {
        var refused = await ProblemAsync(await _http.PostAsJsonAsync("/api/units/sam/ops/refuse", new { }), HttpStatusCode.Conflict);
        var disabled = await ProblemAsync(await _http.PostAsync("/api/units/off/start", null), HttpStatusCode.Conflict);

        Assert.Equal(("SAMPLE_REFUSED", "Ask something else.", false), (refused.GetProperty("code").GetString(), refused.GetProperty("remedy").GetString(), refused.GetProperty("success").GetBoolean()));
        Assert.Equal("refused", refused.GetProperty("data").GetProperty("Text").GetString());
        Assert.Equal(("sam", "ready"), (refused.GetProperty("unit").GetProperty("name").GetString(), refused.GetProperty("unit").GetProperty("state").GetString()));
        Assert.Equal("UNIT_REQUEST_REFUSED", disabled.GetProperty("code").GetString());
        Assert.Equal("off", disabled.GetProperty("unit").GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("/api/units/..%2F..%2Fetc%2Fpasswd/logs")]
    [InlineData("/api/units/..%2Fjournal.db/logs")]
    [InlineData("/api/units/.hidden")]
    public async Task Unit_names_that_could_reach_outside_the_data_folder_are_refused(string path)
    {
        var response = await _http.GetAsync(path);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("INVALID_NAME", problem.GetProperty("code").GetString());
        Assert.DoesNotContain("root:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operation_names_are_validated_and_unknown_units_and_routes_get_coded_problems()
    {
        var badOp = await _http.PostAsync("/api/units/sam/ops/..%2Fx", null);
        var unknownUnit = await _http.PostAsync("/api/units/ghost/start", null);
        var unknownRoute = await _http.GetAsync("/api/nothing/here");

        Assert.Equal("INVALID_NAME", (await ProblemAsync(badOp, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("UNIT_NOT_FOUND", (await ProblemAsync(unknownUnit, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        Assert.Equal("NOT_FOUND", (await ProblemAsync(unknownRoute, HttpStatusCode.NotFound)).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("GET /api/units/a%00b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "BAD_REQUEST", "Invalid request target")] // Kestrel's own refusal
    [InlineData("GET /api/health HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n", 400, "BAD_REQUEST", "Invalid request header")]
    [InlineData("GET /api/health HTTP/9.9\r\nHost: h\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED", "HTTP version")]
    [InlineData("POST /api/units/sam/start HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "BAD_REQUEST", "Content-Length")]
    public async Task What_Kestrel_refuses_before_the_API_sees_it_is_still_a_problem_that_says_why(string request, int status, string code, string reason)
    {
        var answer = await RawHttp.SendAsync(host.Port, request);

        Assert.Equal(status, answer.Status);
        Assert.Equal("application/problem+json; charset=utf-8", answer.Header("Content-Type"));
        Assert.Equal("close", answer.Header("Connection"));
        using var problem = JsonDocument.Parse(answer.Body);
        Assert.Equal(code, problem.RootElement.GetProperty("code").GetString());
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains(reason, problem.RootElement.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("remedy").GetString()));
    }

    [Fact]
    public async Task A_refused_request_after_good_ones_on_one_connection_leaves_their_answers_whole()
    {
        var good = "GET /api/health HTTP/1.1\r\nHost: h\r\n\r\n";

        var answers = await RawHttp.SendManyAsync(host.Port, good + good + "GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.Equal([200, 200, 400], answers.Select(a => a.Status));
        Assert.All(answers.Take(2), a => Assert.Equal("ok", JsonDocument.Parse(a.Body).RootElement.GetProperty("status").GetString()));
        Assert.Equal("BAD_REQUEST", JsonDocument.Parse(answers[2].Body).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Headers_over_Kestrels_own_limit_are_a_problem_too()
    {
        var answer = await RawHttp.SendAsync(host.Port, $"GET /api/health HTTP/1.1\r\nHost: h\r\nX-Big: {new string('a', 300_000)}\r\n\r\n");

        Assert.Equal(431, answer.Status);
        Assert.Equal("HEADERS_TOO_LARGE", JsonDocument.Parse(answer.Body).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_bad_body_found_only_after_the_answer_is_not_followed_by_a_second_answer()
    {
        // The API does not read a GET's body; Kestrel finds the broken chunk while draining it, after the answer.
        var answers = await RawHttp.SendManyAsync(host.Port, "GET /api/health HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");

        Assert.Equal(200, Assert.Single(answers).Status);
    }

    [Fact]
    public async Task A_body_Kestrel_cannot_frame_gets_one_problem()
    {
        // Kestrel finds this while the API reads the body: the API answers, and that answer is not replaced.
        var answer = await RawHttp.SendAsync(host.Port,
            "POST /api/units/sam/ops/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n");

        Assert.Equal(400, answer.Status);
        Assert.Equal("BAD_REQUEST", JsonDocument.Parse(answer.Body).RootElement.GetProperty("code").GetString());
        Assert.Contains("chunk", JsonDocument.Parse(answer.Body).RootElement.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Request_bodies_beyond_the_limit_are_refused()
    {
        var huge = new StringContent("{\"text\":\"" + new string('a', 200_000) + "\"}", Encoding.UTF8, "application/json");

        var response = await _http.PostAsync("/api/units/sam/ops/echo", huge);

        Assert.Equal("BODY_TOO_LARGE", (await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Health_reports_the_hosts_own_memory_and_threads_as_proc_counts_them()
    {
        var health = await GetAsync("/api/health");
        var status = File.ReadAllLines($"/proc/{host.Host.Pid}/status");
        long Field(string name) => long.Parse(status.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal("ok", health.GetProperty("status").GetString());
        var rss = health.GetProperty("memory").GetProperty("rssBytes").GetInt64();
        Assert.InRange(rss, Field("VmRSS") * 1024 / 2, Field("VmRSS") * 1024 * 2); // the same process; its RSS moves between the two reads
        Assert.InRange(health.GetProperty("threads").GetInt32(), 2, Field("Threads") + 8);
        Assert.True(health.GetProperty("memory").GetProperty("managedHeapBytes").GetInt64() > 0);
    }

    [Fact]
    public async Task A_known_route_asked_with_the_wrong_method_names_the_methods_it_takes()
    {
        var before = (await GetAsync("/api/units/talker")).GetProperty("pid").GetInt32();

        var getStop = await _http.GetAsync("/api/units/talker/stop");
        var postUnits = await _http.PostAsync("/api/units", null);
        var after = await GetAsync("/api/units/talker");

        Assert.Equal("METHOD_NOT_ALLOWED", (await ProblemAsync(getStop, HttpStatusCode.MethodNotAllowed)).GetProperty("code").GetString());
        Assert.Equal(["POST"], getStop.Content.Headers.Allow);
        Assert.Equal("METHOD_NOT_ALLOWED", (await ProblemAsync(postUnits, HttpStatusCode.MethodNotAllowed)).GetProperty("code").GetString());
        Assert.Equal(["GET"], postUnits.Content.Headers.Allow);
        Assert.Equal(("ready", before), (after.GetProperty("state").GetString(), after.GetProperty("pid").GetInt32()));
    }

    [Theory]
    [InlineData("/api/units/talker/logs?tail=ten", "tail")]
    [InlineData("/api/units/talker/logs?tail=1&tail=2", "tail")]
    [InlineData("/api/units/talker/logs?follow=yes", "follow")]
    [InlineData("/api/events/recent?limit=-x", "limit")]
    [InlineData("/api/units/talker/logs?tail=-1", "tail")]
    [InlineData("/api/events/recent?limit=-5", "limit")]
    public async Task Query_parameters_of_the_wrong_type_are_refused_with_the_parameter_named(string path, string parameter)
    {
        var problem = await ProblemAsync(await _http.GetAsync(path), HttpStatusCode.BadRequest);

        Assert.Equal("INVALID_QUERY", problem.GetProperty("code").GetString());
        Assert.Contains(parameter, problem.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tail_of_zero_is_no_line_and_one_past_what_is_kept_is_all_of_it()
    {
        var none = await GetAsync("/api/units/talker/logs?tail=0");
        var one = await GetAsync("/api/units/talker/logs?tail=1");
        var huge = await GetAsync("/api/units/talker/logs?tail=2000000000");
        var noEvents = await GetAsync("/api/events/recent?limit=0");

        Assert.Equal(0, none.GetArrayLength());
        Assert.Equal(1, one.GetArrayLength());
        Assert.True(huge.GetArrayLength() > 1);
        Assert.Equal(0, noEvents.GetArrayLength());
    }

    [Fact]
    public async Task Headers_and_targets_over_the_APIs_limits_are_problems_that_say_so()
    {
        using var bigHeader = new HttpRequestMessage(HttpMethod.Get, "/api/health");
        bigHeader.Headers.Add("X-Big", new string('a', 40_000));
        var headers = await ProblemAsync(await _http.SendAsync(bigHeader), HttpStatusCode.RequestHeaderFieldsTooLarge);
        var target = await ProblemAsync(await _http.GetAsync("/api/units/talker/logs?x=" + new string('a', 10_000)), HttpStatusCode.RequestUriTooLong);

        Assert.Equal("HEADERS_TOO_LARGE", headers.GetProperty("code").GetString());
        Assert.Equal("URI_TOO_LONG", target.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Route_literals_match_in_any_case_and_a_trailing_slash_is_ignored()
    {
        var units = await GetAsync("/API/Units/");

        Assert.Equal(3, units.GetArrayLength());
    }

    [Fact]
    public async Task Cross_origin_requests_are_refused_and_no_CORS_headers_are_ever_sent()
    {
        var before = (await GetAsync("/api/units/talker")).GetProperty("pid").GetInt32();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/units/talker/stop");
        preflight.Headers.Add("Origin", "http://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var post = new HttpRequestMessage(HttpMethod.Post, "/api/units/talker/stop");
        post.Headers.Add("Origin", "http://evil.example");
        using var rebinding = new HttpRequestMessage(HttpMethod.Get, "/api/units");
        rebinding.Headers.Host = "evil.example";

        var preflightResponse = await _http.SendAsync(preflight);
        var postResponse = await _http.SendAsync(post);
        var rebindingResponse = await _http.SendAsync(rebinding);
        var after = await GetAsync("/api/units/talker");

        Assert.False(preflightResponse.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal("CROSS_ORIGIN_REFUSED", (await ProblemAsync(postResponse, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        Assert.Equal("HOST_REFUSED", (await ProblemAsync(rebindingResponse, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        Assert.Equal(("ready", before), (after.GetProperty("state").GetString(), after.GetProperty("pid").GetInt32()));
    }

    [Fact]
    public async Task Env_values_not_marked_public_are_never_shown_by_the_API_events_or_host_log()
    {
        var unit = await GetAsync("/api/units/talker");
        var everything = string.Join("\n",
            unit.ToString(),
            await _http.GetStringAsync("/api/units"),
            await _http.GetStringAsync("/api/events/recent"),
            await _http.GetStringAsync("/metrics"),
            await _http.GetStringAsync("/api/units/talker/logs?tail=1000"),
            host.Host.Output);

        Assert.Equal("(secret)", unit.GetProperty("env").GetProperty("API_KEY").GetString());
        Assert.Equal("eu-west", unit.GetProperty("env").GetProperty("REGION").GetString());
        Assert.DoesNotContain(ApiHostFixture.Secret, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_are_Prometheus_text_with_unit_state_restarts_uptime_cpu_rss_log_lines_and_dropped_events()
    {
        var response = await _http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("pluginhost_unit_state{unit=\"talker\",kind=\"process\",state=\"ready\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("pluginhost_unit_state{unit=\"talker\",kind=\"process\",state=\"failed\"} 0", text, StringComparison.Ordinal);
        foreach (var family in new[] { "pluginhost_unit_restarts_total", "pluginhost_unit_uptime_seconds", "pluginhost_unit_cpu_percent", "pluginhost_unit_rss_bytes", "pluginhost_unit_log_lines_total", "pluginhost_events_dropped_total", "pluginhost_unit_probe_latency_seconds", "pluginhost_plugin_info" })
        {
            Assert.Contains("# TYPE " + family + " ", text, StringComparison.Ordinal);
        }

        Assert.True(Value(text, "pluginhost_unit_log_lines_total{unit=\"talker\"}") > 0);
        // The host's own memory: resident above the managed heap it holds, and collections counted.
        Assert.True(Value(text, "pluginhost_host_resident_bytes") > Value(text, "pluginhost_host_managed_heap_bytes"));
        Assert.True(Value(text, "pluginhost_host_managed_heap_bytes") > 0);
        Assert.Equal(["0", "1", "2"], System.Text.RegularExpressions.Regex.Matches(text, "pluginhost_host_gc_collections_total\\{generation=\"(\\d)\"\\} \\d+\n").Select(m => m.Groups[1].Value));
        Assert.Contains("# TYPE pluginhost_host_gc_committed_bytes gauge", text, StringComparison.Ordinal);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), line =>
            Assert.Matches(@"^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+=""[^""]*"",?)+\})? -?[0-9.eE+-]+)$", line));
    }

    private static double Value(string metrics, string series) =>
        double.Parse(metrics.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_event_stream_filters_by_unit()
    {
        using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/events?unit=sam&since=0"), HttpCompletionOption.ResponseHeadersRead);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        using var deadline = new CancellationTokenSource(Deadline);
        var first = await reader.NextAsync(deadline.Token);

        Assert.Equal("sam", first!.Json.GetProperty("unit").GetString());
        Assert.Equal("unit_state", first.Json.GetProperty("kind").GetString());
    }
}
