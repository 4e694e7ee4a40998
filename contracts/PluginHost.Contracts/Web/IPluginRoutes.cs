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

    /// <summary>
    /// (since 1.6) Paths outside the plugin's prefix at which the host serves these routes too — a
    /// protocol's own paths, such as the station API's <c>/api/batches</c>. A request no route of
    /// the host has, at or under a mount's <see cref="PluginMount.Path"/>, goes to the plugin as
    /// <see cref="PluginMount.PluginPath"/> plus the rest (a WebSocket upgrade to
    /// <see cref="HandleWebSocketAsync"/>). The host's own routes always come first; host.yaml's
    /// <c>plugins.mounts</c> moves a plugin's mounts under a prefix or turns them off.
    /// </summary>
    IReadOnlyList<PluginMount> Mounts => [];
}

/// <summary>(since 1.6) One of <see cref="IPluginRoutes.Mounts"/>: <paramref name="Path"/> (e.g. <c>/api/batches</c>) served as the plugin's <paramref name="PluginPath"/> (<c>/batches</c>).</summary>
public sealed record PluginMount(string Path, string PluginPath);
