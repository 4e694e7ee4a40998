using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace PluginHost.Api;

/// <summary>What a route answers: JSON, text, a file, or a stream the handler writes itself.</summary>
internal static class ApiReply
{
    public const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>The handler has answered by itself (a WebSocket session that has ended).</summary>
    public static readonly IResult Done = new Written(_ => Task.CompletedTask);

    /// <summary><paramref name="value"/> as JSON (camelCase, <see cref="ApiJsonContext"/>), of its runtime type.</summary>
    public static IResult Json(object? value, int status = StatusCodes.Status200OK, string contentType = JsonContentType) => new Written(async http =>
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        await JsonSerializer.SerializeAsync(http.Response.Body, value, value?.GetType() ?? typeof(object), ApiJsonContext.WithReflectionFallback, http.RequestAborted).ConfigureAwait(false);
    });

    public static IResult Text(string text, string contentType) => new Written(async http =>
    {
        http.Response.ContentType = contentType;
        await http.Response.WriteAsync(text, http.RequestAborted).ConfigureAwait(false);
    });

    /// <summary>A file's content: copies the stream <paramref name="open"/> gives (and disposes it).</summary>
    public static IResult File(Func<Stream> open, string contentType) => new Written(async http =>
    {
        await using var stream = open();
        http.Response.ContentType = contentType;
        http.Response.ContentLength = stream.CanSeek ? stream.Length : null;
        await stream.CopyToAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
    });

    /// <summary>A response the handler writes as it goes (server-sent events), for as long as the client stays.</summary>
    public static IResult Streamed(Func<Task> serve) => new Written(_ => serve());

    private sealed class Written(Func<HttpContext, Task> write) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => write(httpContext);
    }
}
