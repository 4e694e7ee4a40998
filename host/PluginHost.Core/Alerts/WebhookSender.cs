using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace PluginHost.Core.Alerts;

/// <summary>
/// POSTs each alert as JSON to the webhook host.yaml names, one at a time, retrying a failure (a
/// refusal, a non-2xx answer, a time-out) with backoff 1 s, 2 s, 4 s… up to the attempts allowed.
/// Never blocks whoever raises an alert: a queue of 1,000 keeps the newest when the receiver is
/// down for long (the dropped are counted and said in the log). Each alert carries an
/// Idempotency-Key, the same on every retry, so a receiver that saw a retry twice can tell.
/// </summary>
internal sealed partial class WebhookSender : IAsyncDisposable
{
    private const int QueueCapacity = 1000;
    private readonly Uri _url;
    private readonly AlertSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly string? _token;
    private readonly Channel<Alert> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _delivered;
    private long _dropped;
    private long _failed;

    public WebhookSender(Uri url, AlertSettings settings, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _url = url;
        _settings = settings;
        _time = time;
        _logger = logger;
        _token = settings.WebhookTokenVariable is { } variable ? Environment.GetEnvironmentVariable(variable) : null;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), UseProxy = false })
        {
            Timeout = Timeout.InfiniteTimeSpan, // each attempt has its own, on the host's clock
        };
        _queue = Channel.CreateBounded<Alert>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _loop = Task.Run(RunAsync);
    }

    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Alerts given up on after every attempt failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues the alert; returns at once whatever the receiver does.</summary>
    public void Send(Alert alert) => _queue.Writer.TryWrite(alert);

    private async Task RunAsync()
    {
        try
        {
            await foreach (var alert in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                await DeliverAsync(alert).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the host is stopping
        }
    }

    private async Task DeliverAsync(Alert alert)
    {
        var body = new JsonObject
        {
            ["code"] = alert.Code,
            ["unit"] = alert.Unit,
            ["message"] = alert.Message,
            ["remedy"] = alert.Remedy,
            ["at"] = alert.At.ToString("O"),
            ["host"] = Environment.MachineName,
        }.ToJsonString();
        var key = Guid.NewGuid().ToString("N");
        var delay = TimeSpan.FromSeconds(1);
        string? last = null;
        for (var attempt = 1; attempt <= _settings.WebhookAttempts; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var deadline = _time.CreateTimer(_ => timeout.Cancel(), null, _settings.WebhookTimeout, Timeout.InfiniteTimeSpan);
            await using (deadline.ConfigureAwait(false))
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    request.Headers.Add("Idempotency-Key", key);
                    if (_token is not null)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
                    }

                    using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref _delivered);
                        return;
                    }

                    last = $"HTTP {(int)response.StatusCode}";
                }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                {
                    last = $"no answer within {PluginHost.Contracts.Specs.Duration.Format(_settings.WebhookTimeout)}";
                }
                catch (HttpRequestException ex)
                {
                    last = ex.Message;
                }
            }

            if (attempt < _settings.WebhookAttempts)
            {
                await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
            }
        }

        Interlocked.Increment(ref _failed);
        LogGaveUp(_logger, alert.Code, alert.Unit ?? "host", _url.GetLeftPart(UriPartial.Path), _settings.WebhookAttempts, last ?? "?");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Code} ({Unit}) not delivered to the webhook {Url} after {Attempts} attempts: {Reason}; it is in the alerts log")]
    private static partial void LogGaveUp(ILogger logger, string code, string unit, string url, int attempts, string reason);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _http.Dispose();
        _stop.Dispose();
    }
}
