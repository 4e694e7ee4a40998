using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace PluginHost.Api;

/// <summary>
/// Gives what Kestrel refuses before any API code runs — a NUL (<c>%00</c>) or a stray byte in the
/// request target, a malformed request line or header, an unknown HTTP version, a header block or
/// request line over Kestrel's own limits, conflicting Content-Length headers — the same
/// problem+json as every other error, instead of Kestrel's bare status with no body.
/// </summary>
/// <remarks>
/// Kestrel has no hook for those answers, but it does two things in a fixed order on the
/// connection's own async flow: it logs the refusal (category
/// <c>Microsoft.AspNetCore.Server.Kestrel.BadRequests</c>, event 17 <c>ConnectionBadRequest</c>,
/// with the exception that carries the status and reason), then writes its bare answer and closes
/// the connection. A connection middleware gives each connection a <see cref="Refusal"/> slot
/// (an <see cref="AsyncLocal{T}"/>, so the log finds the connection it was written for) and an output
/// writer that, once the slot is filled, swallows what Kestrel writes and sends the problem instead.
/// A refusal found while the API itself reads a body is answered by the API
/// (<see cref="AnsweredByTheApi"/>), and then nothing is replaced. HTTP/1.1 only: the API listens
/// for nothing else.
/// </remarks>
internal static class KestrelRefusals
{
    private const string BadRequestsCategory = "Microsoft.AspNetCore.Server.Kestrel.BadRequests";
    private const int ConnectionBadRequestEvent = 17;
    private static readonly AsyncLocal<Refusal?> Current = new();

    /// <summary>The loggers Kestrel is given: <paramref name="loggers"/>, with its bad-request log also recorded on the connection.</summary>
    public static ILoggerFactory Observing(ILoggerFactory loggers) => new ObservingLoggers(loggers);

    /// <summary>The connection middleware (first in <c>ListenOptions.Use</c>).</summary>
    public static ConnectionDelegate Answering(ConnectionDelegate next) => async connection =>
    {
        var refusal = new Refusal();
        Current.Value = refusal;
        var transport = connection.Transport;
        connection.Transport = new Pipe(transport.Input, new AnsweringWriter(transport.Output, refusal));
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            connection.Transport = transport;
        }
    };

    /// <summary>The API answered Kestrel's refusal itself (a body it could not read): leave that answer as it is.</summary>
    public static void AnsweredByTheApi() => Current.Value?.Clear();

    /// <summary>The problem for what Kestrel refused, as an HTTP/1.1 response that closes the connection.</summary>
    internal static byte[] Response(BadHttpRequestException refused)
    {
        var status = refused.StatusCode;
        var (code, remedy) = status switch
        {
            StatusCodes.Status431RequestHeaderFieldsTooLarge => ("HEADERS_TOO_LARGE", "Send fewer or shorter headers."),
            StatusCodes.Status414UriTooLong => ("URI_TOO_LONG", "No route of the API needs so long a request line: check the URL."),
            StatusCodes.Status408RequestTimeout => ("REQUEST_TIMEOUT", "Send the whole request promptly; the server waits 30 s for headers."),
            StatusCodes.Status505HttpVersionNotsupported => ("HTTP_VERSION_NOT_SUPPORTED", "Speak HTTP/1.1 (or 1.0) to the API."),
            StatusCodes.Status413PayloadTooLarge => ("BODY_TOO_LARGE", $"Request bodies are limited to {HostApi.MaxRequestBodyBytes / 1024} KB."),
            _ => ("BAD_REQUEST", "The request is not valid HTTP/1.1: percent-encode the URL (no NUL, no raw spaces or control characters) and check the headers against docs/api.md."),
        };
        var reason = ReasonPhrases.GetReasonPhrase(status);
        var body = JsonSerializer.SerializeToUtf8Bytes(
            ApiProblem.Members(status, code, reason, refused.Message, remedy), ApiJsonContext.WithReflectionFallback.GetTypeInfo(typeof(Dictionary<string, object?>))!);
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: {ApiProblem.ContentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        return [.. head, .. body];
    }

    /// <summary>One connection's refusal, once Kestrel has logged it.</summary>
    private sealed class Refusal
    {
        private volatile BadHttpRequestException? _refused;

        public BadHttpRequestException? Refused => _refused;

        public void Record(BadHttpRequestException refused) => _refused = refused;

        public void Clear() => _refused = null;
    }

    private sealed class Pipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>The connection's output as is, until a refusal: then Kestrel's bare answer goes nowhere and the problem is sent.</summary>
    private sealed class AnsweringWriter(PipeWriter inner, Refusal refusal) : PipeWriter
    {
        private byte[] _discard = [];
        private bool _discarding;
        private bool _discarded;
        private bool _answered;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            _discarding = refusal.Refused is not null;
            return _discarding ? Discard(sizeHint).AsMemory() : inner.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            _discarding = refusal.Refused is not null;
            return _discarding ? Discard(sizeHint).AsSpan() : inner.GetSpan(sizeHint);
        }

        public override void Advance(int bytes)
        {
            if (!_discarding)
            {
                inner.Advance(bytes);
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Answer();
            return inner.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            Answer();
            inner.Complete(exception);
        }

        public override async ValueTask CompleteAsync(Exception? exception = null)
        {
            Answer();
            if (refusal.Refused is not null)
            {
                await inner.FlushAsync().ConfigureAwait(false);
            }

            await inner.CompleteAsync(exception).ConfigureAwait(false);
        }

        /// <summary>
        /// Sends the problem in place of what Kestrel wrote after the refusal — only if it wrote
        /// something: a refusal found while draining a body after a complete response (the response
        /// had started, so Kestrel answers nothing) must not be followed by a second answer.
        /// </summary>
        private void Answer()
        {
            if (_answered || !_discarded || refusal.Refused is not { } refused)
            {
                return;
            }

            _answered = true;
            inner.Write(Response(refused));
        }

        private byte[] Discard(int sizeHint)
        {
            _discarded = true;
            if (_discard.Length < Math.Max(sizeHint, 4096))
            {
                _discard = new byte[Math.Max(sizeHint, 4096)];
            }

            return _discard;
        }
    }

    private sealed class ObservingLoggers(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName == BadRequestsCategory ? new RecordingLogger(inner.CreateLogger(categoryName)) : inner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The factory is the caller's to dispose.
        }
    }

    /// <summary>Kestrel's bad-request log: recorded on the connection, then passed on (the inner logger keeps its own level).</summary>
    private sealed class RecordingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        // Kestrel writes its refusals at Debug: always enabled here so that every one is seen.
        public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Debug || inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == ConnectionBadRequestEvent && exception is BadHttpRequestException refused)
            {
                Current.Value?.Record(refused);
            }

            if (inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
