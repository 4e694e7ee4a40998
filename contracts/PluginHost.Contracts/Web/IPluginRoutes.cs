using System.Net.WebSockets;

namespace PluginHost.Contracts.Web;

/// <summary>
/// HTTP routes and WebSocket endpoints a plugin serves under the prefix the host mounts for it
/// (since 1.5): <c>/plugins/NAME/api/…</c> and <c>/plugins/NAME/ws/…</c>, behind the host's own
/// guard (token, origin, size limits). The host knows nothing of what they mean. Handlers must
/// honour the cancellation token: it is cancelled when the client leaves and when the plugin is
/// reloaded (a WebSocket client then reconnects to the new version).
/// </summary>
public interface IPluginRoutes
{
    /// <summary>Answers one request; <see cref="PluginResponse.Problem"/> for errors. A 404 for paths it does not serve.</summary>
    ValueTask<PluginResponse> HandleAsync(PluginRequest request, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="path"/> (after <c>/plugins/NAME/ws</c>) is a WebSocket endpoint; the host accepts the upgrade only then.</summary>
    bool IsWebSocket(string path) => false;

    /// <summary>Serves one accepted WebSocket until it closes or the token is cancelled; the host closes it afterwards.</summary>
    ValueTask HandleWebSocketAsync(PluginRequest request, WebSocket socket, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
