using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.PtySession;

/// <summary>A pty-session unit under the real host, driven over its WebSocket and operations.</summary>
public sealed class PtySocketTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("pty-socket");
    private readonly HttpClient _http = new();
    private HostProcess _host = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("pty-session"), _dir.Combine("plugins"));
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("process"), _dir.Combine("plugins"));
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins: { directories: [../plugins], watch: false }\nmanifests: { watch: false }\n");
        // A tiny shell: runs each line it reads, so a test can ask the terminal things (stty size, tty).
        _dir.Write("manifests/shell.yaml", """
            apiVersion: pluginhost/v1
            kind: pty-session
            name: shell
            spec: { command: /bin/bash, args: ["-c", "echo READY; while read -r line; do eval \"$line\"; done"], cols: 80, rows: 24 }
            """);
        _dir.Write("manifests/plain.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: plain\nspec: { command: /bin/sleep, args: [\"300\"] }\n");
        _port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{_port}");
        _host = HostProcess.Start(_dir.Path, ["run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{_port}"]);
        await Eventually.TrueAsync(() =>
        {
            return _http.GetFromJsonAsync<JsonElement>("/api/units").Result.EnumerateArray().All(u => u.GetProperty("state").GetString() == "ready");
        }, Deadline, "the units to be ready\n" + _host.Output);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _http.Dispose();
        _dir.Dispose();
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_port}/api/units/shell/pty"), CancellationToken.None);
        return socket;
    }

    private static async Task<string> ReadUntilAsync(ClientWebSocket socket, StringBuilder seen, Func<string, bool> done, string what)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var buffer = new byte[64 * 1024];
        while (!done(seen.ToString()))
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}; received:\n{seen}");
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new Xunit.Sdk.XunitException($"closed ({result.CloseStatusDescription}) before {what}; received:\n{seen}");
            }

            seen.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        return seen.ToString();
    }

    private static Task TypeAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Binary, true, CancellationToken.None);

    [Fact]
    public async Task Two_viewers_see_the_same_session_input_from_one_reaches_it_and_a_resize_reaches_the_program()
    {
        using var first = await ConnectAsync();
        using var second = await ConnectAsync();
        var (a, b) = (new StringBuilder(), new StringBuilder());
        await ReadUntilAsync(first, a, t => t.Contains("READY", StringComparison.Ordinal), "the backlog on the first viewer");
        await ReadUntilAsync(second, b, t => t.Contains("READY", StringComparison.Ordinal), "the backlog on the second viewer");

        await TypeAsync(first, "echo hello-from-$((6*7))\r");
        await ReadUntilAsync(second, b, t => t.Contains("hello-from-42", StringComparison.Ordinal), "the answer on the other viewer");
        // Resize and then ask, on the same connection: a viewer's messages are applied in order (two
        // connections are not ordered with each other). The other viewer sees the answer.
        await first.SendAsync(Encoding.UTF8.GetBytes("""{"type":"resize","cols":100,"rows":30}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        await TypeAsync(first, "stty size\r");
        await ReadUntilAsync(second, b, t => Regex.IsMatch(t, @"\r\n30 100\r\n"), "the new size on the other viewer");
        var text = await ReadUntilAsync(first, a, t => Regex.IsMatch(t, @"\r\n30 100\r\n"), "the new size");

        Assert.Contains("hello-from-42", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_write_and_read_the_scrollback_and_lines_reach_the_event_stream()
    {
        var write = await _http.PostAsJsonAsync("/api/units/shell/ops/write", new { text = "echo op-$((2+3))\r" });
        string? scrollback = null;
        await Eventually.TrueAsync(() =>
        {
            scrollback = _http.PostAsJsonAsync("/api/units/shell/ops/scrollback", new { }).Result.Content.ReadFromJsonAsync<JsonElement>().Result
                .GetProperty("data").GetProperty("text").GetString();
            return scrollback!.Contains("op-5\r\n", StringComparison.Ordinal);
        }, Deadline, "the answer in the scrollback");
        var events = await _http.GetFromJsonAsync<JsonElement>("/api/events/recent?unit=shell");

        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        Assert.Contains(events.EnumerateArray(), e => e.GetProperty("kind").GetString() == "pty-output" && e.GetProperty("payload").GetProperty("line").GetString() == "op-5");
        Assert.Contains(events.EnumerateArray(), e => e.GetProperty("kind").GetString() == "session_started");
    }

    [Fact]
    public async Task Without_a_WebSocket_or_without_a_terminal_the_answer_says_what_to_do()
    {
        var plain = await _http.GetAsync("/api/units/shell/pty");
        var noTerminal = await _http.GetAsync("/api/units/plain/pty");
        using var socket = new ClientWebSocket();
        var refused = await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_port}/api/units/plain/pty"), CancellationToken.None));

        Assert.Equal((HttpStatusCode.BadRequest, "WEBSOCKET_REQUIRED"), (plain.StatusCode, (await plain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()));
        Assert.Equal((HttpStatusCode.BadRequest, "WEBSOCKET_REQUIRED"), (noTerminal.StatusCode, (await noTerminal.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()));
        Assert.NotNull(refused);
    }

    [Theory]
    [InlineData("write", """{"base64": "not base64!"}""")]
    [InlineData("write", """{"text": "\ud800"}""")]
    [InlineData("scrollback", """{"maxBytes": -1}""")]
    [InlineData("resize", """{"cols": 99999999999, "rows": 24}""")]
    [InlineData("resize", """{"cols": 1, "rows": 24}""")]
    public async Task Arguments_an_operation_cannot_take_are_a_400_with_a_remedy_not_an_exception(string op, string body)
    {
        using var response = await _http.PostAsync($"/api/units/shell/ops/{op}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("INVALID_ARGUMENTS", problem.GetProperty("code").GetString());
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("remedy").GetString()));
        Assert.DoesNotContain("Exception", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_huge_maxBytes_returns_all_that_is_kept()
    {
        var all = await (await _http.PostAsJsonAsync("/api/units/shell/ops/scrollback", new { })).Content.ReadFromJsonAsync<JsonElement>();
        var huge = await _http.PostAsync("/api/units/shell/ops/scrollback", new StringContent("""{"maxBytes": 9000000000000}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, huge.StatusCode);
        Assert.True((await huge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").GetProperty("bytes").GetInt32() >= all.GetProperty("data").GetProperty("bytes").GetInt32());
    }

    [Fact]
    public async Task An_unmasked_client_frame_ends_the_connection_and_reaches_nothing_while_masked_ones_work()
    {
        var marker = $"unmasked-{Random.Shared.Next(1000, 9999)}";
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, _port);
        var stream = client.GetStream();
        var handshake = $"GET /api/units/shell/pty HTTP/1.1\r\nHost: 127.0.0.1:{_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));
        var response = new StringBuilder();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(Deadline);
        while (!response.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            response.Append(Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer, timeout.Token)));
        }

        Assert.StartsWith("HTTP/1.1 101", response.ToString(), StringComparison.Ordinal);
        var payload = Encoding.ASCII.GetBytes($"echo {marker}\r");
        await stream.WriteAsync((byte[])[0x82, (byte)payload.Length, .. payload], timeout.Token); // FIN + binary, mask bit clear

        // The server closes the connection: reads end (0 bytes, or a reset) well before the deadline.
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, timeout.Token);
            }
            catch (IOException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }
        }

        using var viewer = await ConnectAsync();
        await TypeAsync(viewer, "echo masked-works\r");
        var seen = await ReadUntilAsync(viewer, new StringBuilder(), t => t.Contains("masked-works\r\n", StringComparison.Ordinal) && t.Split("masked-works").Length > 2, "the masked input to run");
        Assert.DoesNotContain(marker, seen, StringComparison.Ordinal);
    }
}
