using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PluginHost.Contracts.Units;
using PluginHost.Core.Supervision;

namespace PluginHost.Api;

/// <summary><c>GET /api/units/{name}/logs?follow=true</c>: the last lines, then every new line, as server-sent events.</summary>
internal static class LogStream
{
    public static async Task ServeAsync(HttpContext http, UnitSupervisor unit, int tail, CancellationToken stopping)
    {
        // Ends when the client leaves or the host stops (a stream never holds up the host's shutdown).
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var cancellationToken = ended.Token;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var body = http.Response.Body;
        using var follower = unit.Log.Follow();
        try
        {
            foreach (var line in tail > 0 ? unit.Log.Tail(Math.Min(tail, 10_000)) : [])
            {
                await WriteAsync(body, line, cancellationToken).ConfigureAwait(false);
            }

            // The backlog is complete: what follows is live (the dashboard shows it, a client may wait for it).
            await body.WriteAsync("event: following\ndata: {}\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            await body.FlushAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var line in follower.Lines.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await WriteAsync(body, line, cancellationToken).ConfigureAwait(false);
                if (follower.Lines.Count == 0)
                {
                    await body.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The connection broke.
        }
    }

    private static Task WriteAsync(Stream body, OutputLine line, CancellationToken cancellationToken) =>
        body.WriteAsync(Encoding.UTF8.GetBytes($"data: {JsonSerializer.Serialize(LineView.From(line), ApiJsonContext.Default.LineView)}\n\n"), cancellationToken).AsTask();

    internal sealed record LineView(string Stream, string Text, DateTimeOffset Timestamp)
    {
        public static LineView From(OutputLine line) => new(line.Stream.ToString().ToLowerInvariant(), line.Text, line.Timestamp);
    }
}
