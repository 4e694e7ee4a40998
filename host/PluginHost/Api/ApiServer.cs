using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PluginHost.Api;

/// <summary>
/// The API's web server: Kestrel on its own, without the generic host, a DI container or the routing
/// middleware. Those layers cost the host ≈ 10 MB of resident memory (thousands of types loaded
/// for a few dozen fixed routes); a supervisor's own footprint is part of its job
/// (docs/benchmarks.md, "Memory, honestly"). Requests go to one <see cref="RequestDelegate"/>.
/// </summary>
internal sealed class ApiServer : IAsyncDisposable
{
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(5);
    private readonly KestrelServer _server;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _log;
    private int _stopped;

    /// <param name="bind">An IP address, or <c>localhost</c> for both loopbacks (host.yaml <c>api.bind</c>, checked there).</param>
    public ApiServer(string bind, int port, long maxRequestBodyBytes, ILoggerFactory loggers)
    {
        var options = new KestrelServerOptions { AddServerHeader = false };
        options.Limits.MaxRequestBodySize = maxRequestBodyBytes;
        // Kestrel's own limits sit well above the API's (ApiGuard), so that a request over the API's
        // gets its precise problem; what Kestrel refuses itself is a problem too (KestrelRefusals).
        options.Limits.MaxRequestHeadersTotalSize = 8 * ApiGuard.MaxHeaderBytes;
        options.Limits.MaxRequestLineSize = 8 * ApiGuard.MaxTargetBytes;
        static void Http1(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(KestrelRefusals.Answering);
        }

        if (bind.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            options.ListenLocalhost(port, Http1);
        }
        else
        {
            options.Listen(IPAddress.Parse(bind.Trim('[', ']')), port, Http1);
        }

        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggers);
        _server = new KestrelServer(Options.Create(options), transport, KestrelRefusals.Observing(loggers));
        _log = loggers.CreateLogger<ApiServer>();
    }

    /// <summary>Cancelled when the server begins to stop: long-lived responses (event and log streams) end on it.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <exception cref="IOException">The address is in use or cannot be bound.</exception>
    public Task StartAsync(RequestDelegate handle, CancellationToken cancellationToken) =>
        _server.StartAsync(new Application(handle, _log), cancellationToken);

    /// <summary>Ends the open streams, then lets requests in flight finish (at most 5 s).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(StopDeadline);
        await _server.StopAsync(deadline.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _server.Dispose();
        _stopping.Dispose();
    }

    /// <summary>What Kestrel calls per request: a plain <see cref="HttpContext"/> over its features, and a last line of defence.</summary>
    private sealed class Application(RequestDelegate handle, ILogger log) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public async Task ProcessRequestAsync(HttpContext context)
        {
            try
            {
                await handle(context).ConfigureAwait(false);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
            {
                // Kestrel's own refusals surface while the body is read: too large (413), malformed (400).
                KestrelRefusals.AnsweredByTheApi();
                await AnswerAsync(context, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? ApiProblem.Of(ex.StatusCode, "BODY_TOO_LARGE", "Request body too large", ex.Message, $"Request bodies are limited to {HostApi.MaxRequestBodyBytes / 1024} KB.")
                    : ApiProblem.Of(ex.StatusCode, "BAD_REQUEST", "Bad request", ex.Message, "Check the request against docs/api.md.")).ConfigureAwait(false);
            }
            catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
            {
                // The client went away mid-request.
            }
            catch (Exception ex)
            {
                LogFailed(log, ex, context.Request.Method, context.Request.Path.Value);
                await AnswerAsync(context, ApiProblem.Of(StatusCodes.Status500InternalServerError, "INTERNAL_ERROR", "Internal error",
                    $"The host failed to answer {context.Request.Method} {context.Request.Path}: {ex.Message}", "The host's log has the details; please report it.")).ConfigureAwait(false);
            }
        }

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }

        private static async Task AnswerAsync(HttpContext context, IResult problem)
        {
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            context.Response.Clear();
            await problem.ExecuteAsync(context).ConfigureAwait(false);
        }

        private static void LogFailed(ILogger log, Exception ex, string method, string? path) =>
            log.LogError(ex, "{Method} {Path} failed", method, path);
    }
}
