using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Api;

/// <summary>
/// What a plugin contributes to the host's surfaces (contracts 1.5), through a real host: its routes
/// and WebSocket under /plugins/NAME/, its panel's files, its links on the status, its events' summaries
/// — and all of it replaced, with open WebSockets told to reconnect, when the plugin is hot-reloaded.
/// </summary>
public sealed class PluginContributionTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = HostUnderTest.Deadline;
    private readonly HostUnderTest _test = new("contributions");
    private HostProcess _host = null!;

    public async Task InitializeAsync()
    {
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("panel-demo-v1"), _test.Dir.Combine("plugins"), "panel-demo");
        _test.WriteHostYaml("../plugins");
        _test.Dir.Write("manifests/demo.yaml", "apiVersion: pluginhost/v1\nkind: panel-demo\nname: demo\n");
        _host = _test.Start();
        await Eventually.TrueAsync(() => _test.UnitIs("demo", "ready"), Deadline, "the demo unit to be ready\n" + _host.Output);
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    private async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    [Fact]
    public async Task A_plugins_routes_answer_under_its_prefix_with_the_hosts_errors()
    {
        var hello = await _test.Http.GetFromJsonAsync<JsonElement>("/plugins/panel-demo/api/hello?name=x");
        using var echo = await _test.Http.PostAsync("/plugins/panel-demo/api/echo", new ByteArrayContent([1, 2, 3, 250]));
        var failed = await ProblemAsync(await _test.Http.GetAsync("/plugins/panel-demo/api/fail"), HttpStatusCode.InternalServerError);
        var unknownPath = await ProblemAsync(await _test.Http.GetAsync("/plugins/panel-demo/api/nope"), HttpStatusCode.NotFound);
        var unknownPlugin = await ProblemAsync(await _test.Http.GetAsync("/plugins/nosuch/api/hello"), HttpStatusCode.NotFound);
        var badName = await ProblemAsync(await _test.Http.GetAsync("/plugins/..%2Fx/api/hello"), HttpStatusCode.BadRequest);

        Assert.Equal(("v1", "x"), (hello.GetProperty("edition").GetString(), hello.GetProperty("name").GetString()));
        Assert.Equal([1, 2, 3, 250], await echo.Content.ReadAsByteArrayAsync());
        Assert.Equal("PLUGIN_ROUTE_FAILED", failed.GetProperty("code").GetString());
        Assert.Contains("the demo fails on purpose", failed.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("DEMO_NOT_FOUND", unknownPath.GetProperty("code").GetString());
        Assert.Equal("PLUGIN_NOT_FOUND", unknownPlugin.GetProperty("code").GetString());
        Assert.Equal("INVALID_NAME", badName.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Its_panel_files_links_and_event_summaries_are_served_and_a_reload_replaces_them_all()
    {
        var unit = _test.Unit("demo")!.Value;
        var panelUrl = unit.GetProperty("plugin").GetProperty("panel").GetString()!;
        using var panel = await _test.Http.GetAsync(panelUrl);
        var link = unit.GetProperty("capabilities").GetProperty("links")[0];
        Assert.Equal("text/javascript", panel.Content.Headers.ContentType?.MediaType);
        Assert.Contains("panel v1", await panel.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(("demo v1", "http://{host}:1/demo"), (link.GetProperty("label").GetString(), link.GetProperty("url").GetString()));
        Assert.False(unit.GetProperty("capabilities").GetProperty("terminal").GetBoolean());
        Assert.Contains(_test.Events("panel_demo_ready"), e => e.GetProperty("summary").GetString() == "the demo v1 is ready");
        Assert.Contains(_test.Events("unit_state"), e => e.GetProperty("summary").GetString()!.StartsWith("starting → ready: ", StringComparison.Ordinal));
        using var socket = await ConnectAsync();
        Assert.Equal("edition v1", await ReceiveTextAsync(socket));

        await ReloadToV2Async();

        // The old version's WebSocket is closed, saying to reconnect; everything now speaks v2.
        using (var timeout = new CancellationTokenSource(Deadline))
        {
            var last = await socket.ReceiveAsync(new byte[4096], timeout.Token);
            Assert.Equal(WebSocketMessageType.Close, last.MessageType);
            Assert.Contains("reconnect", socket.CloseStatusDescription, StringComparison.Ordinal);
        }

        using var again = await ConnectAsync();
        Assert.Equal("edition v2", await ReceiveTextAsync(again));
        Assert.Equal("v2", (await _test.Http.GetFromJsonAsync<JsonElement>("/plugins/panel-demo/api/hello")).GetProperty("edition").GetString());
        var reloaded = _test.Unit("demo")!.Value;
        Assert.NotEqual(panelUrl, reloaded.GetProperty("plugin").GetProperty("panel").GetString());
        Assert.Contains("panel v2", await _test.Http.GetStringAsync(reloaded.GetProperty("plugin").GetProperty("panel").GetString()), StringComparison.Ordinal);
        Assert.Equal("demo v2", reloaded.GetProperty("capabilities").GetProperty("links")[0].GetProperty("label").GetString());
        Assert.Equal(unit.GetProperty("pid").GetInt32(), reloaded.GetProperty("pid").GetInt32()); // the unit ran on through the reload
    }

    private async Task ReloadToV2Async()
    {
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("panel-demo-v2"), _test.Dir.Combine("plugins"), "panel-demo");
        using var reload = await _test.Http.PostAsync("/api/plugins/panel-demo/reload", null);
        Assert.True(reload.IsSuccessStatusCode, await reload.Content.ReadAsStringAsync());
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_test.Port}/plugins/panel-demo/ws/echo"), CancellationToken.None);
        return socket;
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(Deadline);
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }
}
