using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace PluginHost.Cli.Client;

/// <summary>The client's side of the HTTP API: JSON in and out, problems turned into <see cref="ClientFailure"/>.</summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(HostAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        _http = new HttpClient { BaseAddress = address.Url, Timeout = Timeout.InfiniteTimeSpan };
        if (address.Token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", address.Token);
        }
    }

    public HostAddress Address { get; }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonElement> PostAsync(string path, JsonElement? body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, path, body, cancellationToken);

    /// <summary>Opens a server-sent-events stream; the caller reads it until it ends or is cancelled.</summary>
    public async Task<Stream> OpenStreamAsync(string path, CancellationToken cancellationToken)
    {
        var response = await CallAsync(() => _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead, cancellationToken)).ConfigureAwait(false);
        await ThrowIfProblemAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, JsonElement? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is { } json)
        {
            request.Content = JsonContent.Create(json);
        }

        using var response = await CallAsync(() => _http.SendAsync(request, cancellationToken)).ConfigureAwait(false);
        await ThrowIfProblemAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> CallAsync(Func<Task<HttpResponseMessage>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            var why = ex.InnerException is SocketException socket ? socket.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : socket.Message : ex.Message;
            throw new ClientFailure(ExitCodes.Unreachable, "HOST_UNREACHABLE", $"cannot reach a host at {Address.Url}: {why}",
                "Start it with `pluginhost run`, or point the client at it with --url or PLUGINHOST_URL.");
        }
    }

    private static async Task ThrowIfProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        JsonElement problem = default;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy, or the server refusing the request itself).
        }

        string? Field(string name) => problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        throw new ClientFailure(ExitCodes.Problems, Field("code") ?? $"HTTP_{(int)response.StatusCode}",
            Field("message") ?? Field("detail") ?? response.ReasonPhrase ?? "the host refused the request",
            Field("remedy") ?? "", problem.ValueKind == JsonValueKind.Object ? problem : null);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A request the host refused or could not be sent: shown as code, message and remedy; never a stack trace.</summary>
internal sealed class ClientFailure(int exitCode, string code, string message, string remedy, JsonElement? problem = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public string Code { get; } = code;

    public string Remedy { get; } = remedy;

    public JsonElement? Problem { get; } = problem;
}
