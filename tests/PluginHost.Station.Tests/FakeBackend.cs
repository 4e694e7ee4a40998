using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace PluginHost.Station.Tests;

/// <summary>
/// The seed's HTTP results backend as a test stands it up (POST /api/station/sync), told how to
/// misbehave: answer 500, take longer than the sender waits, or not listen at all; and, when well,
/// take each item once by its key (a resend is dropped, as a real backend's idempotency makes it).
/// </summary>
internal sealed class FakeBackend : IAsyncDisposable
{
    private readonly int _port = StationPaths.FreePort();
    private readonly List<JsonObject> _taken = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private HttpListener? _listener;
    private Task? _serving;
    private CancellationTokenSource? _stop;

    public enum Mode
    {
        Ok,
        ServerError,
        Slow,
    }

    public Uri Url => new($"http://127.0.0.1:{_port}/");

    public volatile Mode Behaviour = Mode.Ok;

    /// <summary>Requests answered with a failure, and items that came again (a resend after a lost answer).</summary>
    public int Refused => Volatile.Read(ref _refused);

    public int Duplicates => Volatile.Read(ref _duplicates);

    public List<string> Authorizations { get; } = [];

    private int _refused;
    private int _duplicates;

    /// <summary>Every item taken, once each, in the order taken.</summary>
    public IReadOnlyList<JsonObject> Taken
    {
        get
        {
            lock (_taken)
            {
                return [.. _taken];
            }
        }
    }

    public void Start()
    {
        _stop = new CancellationTokenSource();
        _listener = new HttpListener();
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>Stops listening: the sender's connections are refused until <see cref="Start"/>.</summary>
    public async Task StopAsync()
    {
        if (_listener is null)
        {
            return;
        }

        await _stop!.CancelAsync();
        _listener.Stop();
        _listener.Close();
        await _serving!;
        (_listener, _serving) = (null, null);
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop!.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener!.GetContextAsync().WaitAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            lock (Authorizations)
            {
                Authorizations.Add(context.Request.Headers["Authorization"] ?? "");
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
            switch (Behaviour)
            {
                case Mode.ServerError:
                    Interlocked.Increment(ref _refused);
                    context.Response.StatusCode = 500;
                    break;
                case Mode.Slow:
                    Interlocked.Increment(ref _refused);
                    await Task.Delay(TimeSpan.FromSeconds(3), _stop!.Token); // longer than the sender waits: it gives up, nothing is taken
                    context.Response.StatusCode = 503;
                    break;
                default:
                    lock (_taken)
                    {
                        foreach (var item in body["items"]!.AsArray().Select(i => i!.AsObject()))
                        {
                            if (_keys.Add(item["key"]!.GetValue<string>()))
                            {
                                _taken.Add(item);
                            }
                            else
                            {
                                _duplicates++;
                            }
                        }
                    }

                    context.Response.StatusCode = 200;
                    break;
            }

            context.Response.Close();
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpListenerException or ObjectDisposedException or IOException)
        {
            // The test ended, or the sender hung up.
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
