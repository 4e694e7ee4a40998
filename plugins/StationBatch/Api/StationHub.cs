using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace PluginHost.Plugins.StationBatch.Api;

/// <summary>
/// The station's WebSocket (the seed's §4.2): a client subscribes to batch ids
/// (<c>{"type":"subscribe","batch_ids":[…]}</c>, <c>unsubscribe</c> likewise) and gets that batch's
/// <c>batch_status</c>, <c>step_start</c>, <c>step_complete</c>, <c>sequence_complete</c>, <c>log</c>
/// and <c>error</c> messages as <c>{type, batch_id, data}</c>. Each client has its own bounded queue
/// (10,000 messages): one that cannot keep up is closed with 1013 ("try again later") and told why,
/// never silently left with gaps.
/// </summary>
internal sealed class StationHub
{
    private const int ClientQueue = 10_000;
    private readonly ConcurrentDictionary<Client, byte> _clients = new();

    /// <summary>A station event as the seed's message, to every client subscribed to its batch.</summary>
    public void Publish(string batch, string eventType, JsonObject? body)
    {
        var type = eventType switch
        {
            "STEP_START" => "step_start",
            "STEP_COMPLETE" => "step_complete",
            "SEQUENCE_COMPLETE" => "sequence_complete",
            "LOG" => "log",
            "SEQUENCE_ERROR" or "SEQUENCE_ABORTED" => "error",
            "SEQUENCE_START" or "BATCH_STATUS" => "batch_status",
            _ => null,
        };
        if (type is null || _clients.IsEmpty)
        {
            return;
        }

        var message = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["batch_id"] = batch, ["data"] = body?.DeepClone() }.ToJsonString());
        foreach (var client in _clients.Keys)
        {
            client.Offer(batch, message);
        }
    }

    public int Clients => _clients.Count;

    /// <summary>Serves one client until it closes, it falls behind, or <paramref name="cancellationToken"/> ends (the plugin is replaced).</summary>
    public async Task ServeAsync(WebSocket socket, Func<string, bool> knownBatch, CancellationToken cancellationToken)
    {
        var client = new Client();
        _clients[client] = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var sending = SendAsync(socket, client, stop.Token);
            await ReceiveAsync(socket, client, knownBatch, stop.Token).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await sending.ConfigureAwait(false);
        }
        finally
        {
            _clients.TryRemove(client, out _);
        }
    }

    private static async Task ReceiveAsync(WebSocket socket, Client client, Func<string, bool> knownBatch, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (socket.State == WebSocketState.Open && !cancellationToken.IsCancellationRequested)
        {
            ValueWebSocketReceiveResult result;
            var length = 0;
            try
            {
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    length += result.Count;
                }
                while (!result.EndOfMessage && length < buffer.Length);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                return;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            if (!result.EndOfMessage)
            {
                client.Reply(Error("message too large (16 KiB at most)"));
                return;
            }

            client.Reply(Handle(Encoding.UTF8.GetString(buffer, 0, length), client, knownBatch));
        }
    }

    /// <summary>A client's message: subscribe or unsubscribe, answered with the batches it now follows, or an error saying what is wrong.</summary>
    private static byte[] Handle(string text, Client client, Func<string, bool> knownBatch)
    {
        JsonObject? message;
        try
        {
            message = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            message = null;
        }

        if (message?["type"]?.GetValueKind() != JsonValueKind.String || message["batch_ids"] is not JsonArray ids
            || ids.Any(i => i?.GetValueKind() != JsonValueKind.String))
        {
            return Error("expected {\"type\": \"subscribe\" or \"unsubscribe\", \"batch_ids\": [\"…\"]}");
        }

        var batches = ids.Select(i => i!.GetValue<string>()).ToList();
        switch (message["type"]!.GetValue<string>())
        {
            case "subscribe":
                if (batches.FirstOrDefault(b => !knownBatch(b)) is { } unknown)
                {
                    return Error($"no batch \"{unknown}\" (GET /api/batches lists them)", "BatchNotFoundError");
                }

                client.Follow(batches, true);
                break;
            case "unsubscribe":
                client.Follow(batches, false);
                break;
            default:
                return Error($"unknown type \"{message["type"]}\": subscribe or unsubscribe");
        }

        return Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "subscribed", ["batch_ids"] = new JsonArray([.. client.Following.Select(b => (JsonNode)b)]) }.ToJsonString());
    }

    private static async Task SendAsync(WebSocket socket, Client client, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in client.Outgoing.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }

            if (client.FellBehind && socket.State == WebSocketState.Open)
            {
                await socket.CloseOutputAsync((WebSocketCloseStatus)1013, $"more than {ClientQueue} messages waited for this client", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The client left, or the plugin is being replaced (the client reconnects to the new version).
        }
    }

    private static byte[] Error(string message, string code = "InvalidRequestError") =>
        Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "error", ["code"] = code, ["error"] = message }.ToJsonString());

    private sealed class Client
    {
        private readonly Channel<byte[]> _outgoing = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(ClientQueue) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        private volatile HashSet<string> _following = new(StringComparer.Ordinal);

        public ChannelReader<byte[]> Outgoing => _outgoing.Reader;

        public IReadOnlyCollection<string> Following => _following;

        public bool FellBehind { get; private set; }

        public void Follow(IEnumerable<string> batches, bool follow)
        {
            var next = new HashSet<string>(_following, StringComparer.Ordinal);
            foreach (var batch in batches)
            {
                _ = follow ? next.Add(batch) : next.Remove(batch);
            }

            _following = next;
        }

        public void Offer(string batch, byte[] message)
        {
            if (_following.Contains(batch))
            {
                Reply(message);
            }
        }

        public void Reply(byte[] message)
        {
            if (!_outgoing.Writer.TryWrite(message) && !FellBehind)
            {
                FellBehind = true; // closed, not thinned: a client never sees a gap it is not told of
                _outgoing.Writer.TryComplete();
            }
        }
    }
}
