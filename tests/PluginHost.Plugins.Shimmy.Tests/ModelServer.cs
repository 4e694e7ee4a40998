using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PluginHost.Plugins.Shimmy.Tests;

/// <summary>
/// A real HTTP server for model downloads: serves one file with Range support (Kestrel's own), and
/// can break the first transfers after a number of bytes, as a flaky network does.
/// </summary>
public sealed class ModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _breaksLeft;

    private ModelServer(WebApplication app) => _app = app;

    public byte[] Content { get; set; } = [];

    /// <summary>Range headers of every request, in order ("" when none).</summary>
    public ConcurrentQueue<string> Ranges { get; } = new();

    public Uri Url { get; private set; } = null!;

    public static async Task<ModelServer> StartAsync(byte[] content, int breakFirst = 0, int breakAfterBytes = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ModelServer(app) { Content = content, _breaksLeft = breakFirst };
        app.MapGet("/model.gguf", async (HttpContext http) =>
        {
            server.Ranges.Enqueue(http.Request.Headers.Range.ToString());
            if (Interlocked.Decrement(ref server._breaksLeft) >= 0)
            {
                // Announce the whole file, send part of it, then drop the connection.
                http.Response.ContentLength = server.Content.Length;
                await http.Response.Body.WriteAsync(server.Content.AsMemory(0, breakAfterBytes));
                await http.Response.Body.FlushAsync();
                http.Abort();
                return Results.Empty;
            }

            return Results.Bytes(server.Content, "application/octet-stream", enableRangeProcessing: true);
        });
        await app.StartAsync();
        server.Url = new Uri(app.Urls.First() + "/model.gguf");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
