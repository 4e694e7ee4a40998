using System.Net;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// A real HTTP server on loopback (HttpListener) that records every request (when, its Idempotency-Key,
/// its body) and answers 500 to the first <see cref="FailFirst"/>, or nothing at all while <see cref="Hang"/>: a webhook's
/// receiver that fails first.
/// </summary>
public sealed class HttpRecorder : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly TimeProvider _clock;
    private readonly List<(DateTimeOffset At, string Key, string Body)> _requests = [];
    private readonly CancellationTokenSource _stop = new();

    public HttpRecorder(TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                Url = new Uri($"http://127.0.0.1:{port}/alerts");
                break;
            }
            catch (HttpListenerException) when (attempt < 50)
            {
            }
        }

        _ = Task.Run(ServeAsync);
    }

    public Uri Url { get; } = null!;

    public int FailFirst { get; set; }

    public bool Hang { get; set; }

    public IReadOnlyList<(DateTimeOffset At, string Key, string Body)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            int count;
            lock (_requests)
            {
                _requests.Add((_clock.GetUtcNow(), context.Request.Headers["Idempotency-Key"] ?? "", body));
                count = _requests.Count;
            }

            if (Hang)
            {
                continue; // never answered: the sender's timeout ends it
            }

            context.Response.StatusCode = count <= FailFirst ? 500 : 204;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
    }
}
