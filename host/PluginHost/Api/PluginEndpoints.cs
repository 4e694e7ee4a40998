using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using PluginHost.Contracts.Units;
using PluginHost.Contracts.Web;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;

namespace PluginHost.Api;

/// <summary>
/// What plugins contribute to the API, mounted under <c>/plugins/NAME/</c> (docs/api.md, "Plugin
/// routes"): <c>ui/…</c> their dashboard panel's files, <c>api/…</c> their HTTP routes (any method),
/// <c>ws/…</c> their WebSocket endpoints. Behind the same guard, limits and problem+json errors as
/// the host's own routes; the host knows nothing of what the paths mean.
/// </summary>
internal static class PluginEndpoints
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".html"] = "text/html; charset=utf-8",
        [".json"] = "application/json; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
    };

    /// <param name="mounts">host.yaml's <c>plugins.mounts</c>: per plugin, a prefix for its mounts, or <c>off</c>.</param>
    public static void Map(ApiRoutes routes, PluginCatalog plugins, IReadOnlyDictionary<string, string> mounts, CancellationToken stopping)
    {
        routes.MapGet("/plugins/{plugin}/ui/{*path}", (_, route) => Panel(plugins, route["plugin"], route["path"]));
        routes.MapAny("/plugins/{plugin}/api/{*path}", (http, route) => HandleAsync(http, plugins, route["plugin"], "/" + route["path"], stopping));
        routes.MapGet("/plugins/{plugin}/ws/{*path}", (http, route) => WebSocketAsync(http, plugins, route["plugin"], "/" + route["path"], stopping));
        routes.Fallback = (http, path) => MountedAsync(http, path, plugins, mounts, stopping);
    }

    /// <summary>
    /// A path no host route has, at or under a plugin's mount (<c>IPluginRoutes.Mounts</c>, moved or
    /// turned off by host.yaml): that plugin's route, or its WebSocket for an upgrade. Plugins are
    /// asked in name order and a plugin's longer mounts first, so two plugins claiming one path
    /// resolve the same way every time (docs/api.md, "Plugin routes").
    /// </summary>
    private static async Task<IResult?> MountedAsync(HttpContext http, string path, PluginCatalog plugins, IReadOnlyDictionary<string, string> mounts, CancellationToken stopping)
    {
        foreach (var name in plugins.List().Select(p => p.Name).Order(StringComparer.Ordinal))
        {
            var prefix = mounts.GetValueOrDefault(name, "");
            if (prefix == "off" || plugins.Find(name)?.RouteGate?.TryEnter() is not { } lease)
            {
                continue;
            }

            IReadOnlyList<PluginMount> declared;
            using (lease)
            {
                declared = lease.Routes.Mounts;
            }

            foreach (var mount in declared.OrderByDescending(m => m.Path.Length))
            {
                var at = prefix + mount.Path.TrimEnd('/');
                if (path.Equals(at, StringComparison.OrdinalIgnoreCase) || path.StartsWith(at + "/", StringComparison.OrdinalIgnoreCase))
                {
                    var target = mount.PluginPath.TrimEnd('/') + path[at.Length..];
                    target = target.Length == 0 ? "/" : target;
                    return http.WebSockets.IsWebSocketRequest
                        ? await WebSocketAsync(http, plugins, name, target, stopping).ConfigureAwait(false)
                        : await HandleAsync(http, plugins, name, target, stopping).ConfigureAwait(false);
                }
            }
        }

        return null;
    }

    private static IResult Panel(PluginCatalog plugins, string name, string path)
    {
        if (Find(plugins, name, out var problem) is not { } plugin)
        {
            return problem!;
        }

        if (plugin.Panel is not { } panel || !panel.Files.TryGetValue(path, out var bytes))
        {
            return ApiProblem.Of(StatusCodes.Status404NotFound, "NOT_FOUND", "No such file",
                $"Plugin {name} has no dashboard file {ApiProblem.Shown(path)}.", "The dashboard loads a plugin's panel by itself (GET /api/units/NAME says where).");
        }

        var type = ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream");
        return new PanelFile(bytes, type);
    }

    private static async Task<IResult> HandleAsync(HttpContext http, PluginCatalog plugins, string name, string path, CancellationToken stopping)
    {
        if (Enter(plugins, name, out var problem) is not { } lease)
        {
            return problem!;
        }

        using (lease)
        {
            var request = await ReadAsync(http, path).ConfigureAwait(false);
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping, lease.Retiring);
            PluginResponse response;
            try
            {
                response = await lease.Routes.HandleAsync(request, ended.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (lease.Retiring.IsCancellationRequested)
            {
                return Unavailable(name);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                return ApiProblem.Of(StatusCodes.Status500InternalServerError, "PLUGIN_ROUTE_FAILED", "The plugin's route failed",
                    $"Plugin {name} failed on {request.Method} {ApiProblem.Shown(path)}: {ex.GetType().Name}: {ex.Message}", $"Report it to the authors of plugin {name}.");
            }

            return new PluginAnswer(response);
        }
    }

    private static async Task<IResult> WebSocketAsync(HttpContext http, PluginCatalog plugins, string name, string path, CancellationToken stopping)
    {
        if (Enter(plugins, name, out var problem) is not { } lease)
        {
            return problem!;
        }

        using (lease)
        {
            if (!lease.Routes.IsWebSocket(path))
            {
                return ApiProblem.Of(StatusCodes.Status404NotFound, "NOT_FOUND", "No such WebSocket endpoint",
                    $"Plugin {name} serves no WebSocket at {ApiProblem.Shown(path)}.", $"See plugin {name}'s documentation for its endpoints.");
            }

            if (!http.WebSockets.IsWebSocketRequest)
            {
                return ApiProblem.Of(StatusCodes.Status400BadRequest, "WEBSOCKET_REQUIRED", "WebSocket required",
                    "This endpoint speaks WebSocket only.", $"Connect with a WebSocket client to ws://HOST/plugins/{name}/ws{path}.");
            }

            var request = await ReadAsync(http, path).ConfigureAwait(false);
            using var socket = await http.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);

            // The plugin's token is cancelled only once the client has been told why the session ends:
            // cancelling a pending receive aborts a WebSocket, and a client would see only a reset.
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            using var retiring = lease.Retiring.Register(() => _ = EndAsync(socket, ended, $"plugin {name} is being reloaded: reconnect"));
            using var stoppingHost = stopping.Register(() => _ = EndAsync(socket, ended, "the host is stopping"));
            try
            {
                await lease.Routes.HandleWebSocketAsync(request, socket, ended.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
            {
                // The client left, the host stops, or the plugin is being replaced.
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                await CloseAsync(socket, WebSocketCloseStatus.InternalServerError, $"plugin {name} failed: {ex.GetType().Name}").ConfigureAwait(false);
                return ApiReply.Done;
            }

            await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, "closed").ConfigureAwait(false);
            return ApiReply.Done;
        }
    }

    /// <summary>
    /// Ends a session from the host's side: the close frame first, then a moment for the client's
    /// answer to reach the plugin's pending receive (it returns by itself), and only then the token —
    /// an aborted socket resets the connection, and a reset can overtake the close frame.
    /// </summary>
    private static async Task EndAsync(WebSocket socket, CancellationTokenSource ended, string reason)
    {
        await CloseAsync(socket, WebSocketCloseStatus.EndpointUnavailable, reason).ConfigureAwait(false);
        try
        {
            ended.CancelAfter(CloseHandshake);
        }
        catch (ObjectDisposedException)
        {
            // The session ended by itself meanwhile.
        }
    }

    private static readonly TimeSpan CloseHandshake = TimeSpan.FromSeconds(2);

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(status, reason.Length > 120 ? reason[..120] : reason, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                // Gone already, or closed by the other path (a reload and the handler's own end).
            }
        }
    }

    private static async Task<PluginRequest> ReadAsync(HttpContext http, string path)
    {
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted).ConfigureAwait(false); // Kestrel's limit bounds it
        return new PluginRequest(http.Request.Method, path,
            http.Request.Query.ToDictionary(q => q.Key, q => q.Value.FirstOrDefault() ?? "", StringComparer.Ordinal),
            http.Request.Headers.Where(h => !h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray());
    }

    private static LoadedPlugin? Find(PluginCatalog plugins, string name, out IResult? problem)
    {
        problem = null;
        if (!UnitNames.IsValid(name))
        {
            problem = ApiProblem.InvalidName("plugin", name);
            return null;
        }

        if (plugins.Find(name) is { } plugin)
        {
            return plugin;
        }

        problem = ApiProblem.Of(StatusCodes.Status404NotFound, "PLUGIN_NOT_FOUND", "Unknown plugin",
            $"No plugin named \"{ApiProblem.Shown(name)}\" is loaded.", "GET /api/plugins lists the loaded plugins.");
        return null;
    }

    private static PluginRouteGate.Lease? Enter(PluginCatalog plugins, string name, out IResult? problem)
    {
        if (Find(plugins, name, out problem) is not { } plugin)
        {
            return null;
        }

        if (plugin.RouteGate is null)
        {
            problem = ApiProblem.Of(StatusCodes.Status404NotFound, "NOT_FOUND", "No routes",
                $"Plugin {name} serves no routes.", "See docs/api.md for the host's routes.");
            return null;
        }

        // Between the lookup and here the version may have been replaced: then ask again once.
        var lease = plugin.RouteGate.TryEnter() ?? plugins.Find(name)?.RouteGate?.TryEnter();
        problem = lease is null ? Unavailable(name) : null;
        return lease;
    }

    private static IResult Unavailable(string name) => ApiProblem.Of(StatusCodes.Status503ServiceUnavailable, "PLUGIN_RELOADING", "Plugin being reloaded",
        $"Plugin {name} is being replaced by a new version.", "Try again in a moment.");

    private sealed class PanelFile(byte[] bytes, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.ContentType = contentType;
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Content-Type-Options"] = "nosniff";
            http.Response.ContentLength = bytes.Length;
            return http.Response.Body.WriteAsync(bytes).AsTask();
        }
    }

    private sealed class PluginAnswer(PluginResponse response) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = response.Status;
            http.Response.ContentType = response.ContentType;
            http.Response.Headers["X-Content-Type-Options"] = "nosniff";
            http.Response.ContentLength = response.Body.Length;
            return http.Response.Body.WriteAsync(response.Body).AsTask();
        }
    }
}
