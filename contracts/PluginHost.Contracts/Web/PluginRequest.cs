namespace PluginHost.Contracts.Web;

/// <summary>
/// An HTTP request to a plugin's routes (since 1.5), already authorized, size-limited and read by
/// the host. <see cref="Path"/> is what follows the plugin's prefix (<c>/plugins/NAME/api</c>), e.g.
/// <c>/batches/3</c>; <see cref="Query"/> holds each parameter's first value.
/// </summary>
public sealed record PluginRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body);
