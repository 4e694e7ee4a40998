using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;
using PluginHost.Contracts.Web;

namespace TestPlugins.PanelDemo;

/// <summary>
/// A plugin that contributes to the host's surfaces: a dashboard panel, a link, event summaries,
/// HTTP routes and a WebSocket endpoint. Built twice (PanelDemoV1, PanelDemoV2) under one name, so
/// that a test can hot-reload it and see every contribution change.
/// </summary>
public sealed class PanelDemoPlugin : IPlugin
{
#if PANEL_DEMO_V2
    public const string Edition = "v2";
#else
    public const string Edition = "v1";
#endif

    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddUnitKind("panel-demo", new PanelDemoDriver());
        builder.AddDashboardPanel();
        builder.AddRoutes(new PanelDemoRoutes());
    }
}

internal sealed class PanelDemoDriver : IUnitDriver
{
    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => [];

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new LaunchPlan("/bin/sleep") { Arguments = ["300"] });

    public IReadOnlyList<UnitLink> Links(IUnitContext context) => [new("demo " + PanelDemoPlugin.Edition, "http://{host}:1/demo") { Title = "a demo link" }];

    public ValueTask OnStateChangedAsync(IUnitContext context, UnitStateChange change, CancellationToken cancellationToken)
    {
        if (change.To == UnitState.Ready)
        {
            context.Events.Publish("panel_demo_ready", new JsonObject { ["edition"] = PanelDemoPlugin.Edition });
        }

        return ValueTask.CompletedTask;
    }

    public string? Summarize(string kind, System.Text.Json.JsonElement payload) =>
        kind == "panel_demo_ready" ? $"the demo {payload.GetProperty("edition").GetString()} is ready" : null;
}

/// <summary>GET /hello answers the edition; POST /echo its body; /ws/echo echoes messages back; /fail throws.</summary>
internal sealed class PanelDemoRoutes : IPluginRoutes
{
    public ValueTask<PluginResponse> HandleAsync(PluginRequest request, CancellationToken cancellationToken) => ValueTask.FromResult((request.Method, request.Path) switch
    {
        ("GET", "/hello") => PluginResponse.Json(new JsonObject { ["edition"] = PanelDemoPlugin.Edition, ["name"] = request.Query.GetValueOrDefault("name") }),
        ("POST", "/echo") => new PluginResponse(200, "application/octet-stream", request.Body),
        (_, "/fail") => throw new InvalidOperationException("the demo fails on purpose"),
        _ => PluginResponse.Problem(404, new UnitError("DEMO_NOT_FOUND", $"The demo has no {request.Method} {request.Path}.", "Ask GET /hello.")),
    });

    public bool IsWebSocket(string path) => path == "/echo";

    public async ValueTask HandleWebSocketAsync(PluginRequest request, WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var hello = Encoding.UTF8.GetBytes("edition " + PanelDemoPlugin.Edition);
        await socket.SendAsync(hello, WebSocketMessageType.Text, true, cancellationToken);
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, cancellationToken);
        }
    }
}
