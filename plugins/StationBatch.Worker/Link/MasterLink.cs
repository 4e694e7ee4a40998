using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using PluginHost.Station.Protocol;

namespace PluginHost.Station.Worker.Link;

/// <summary>
/// The worker's end of the protocol: a DEALER (identity BATCH/SESSION) connected to the master's
/// ROUTER, served by one NetMQ poller thread (sockets are not thread-safe). Commands go to
/// <see cref="Commands"/>; execution events go out through the <see cref="Outbox"/> and are resent
/// until acknowledged; a heartbeat says the worker lives. ZeroMQ reconnects by itself when the
/// master comes back.
/// </summary>
internal sealed partial class MasterLink : IDisposable
{
    private static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(1);
    private readonly WorkerSettings _settings;
    private readonly ILogger _logger;
    private readonly DealerSocket _socket = new();
    private readonly NetMQQueue<string> _outgoing = new();
    private readonly NetMQTimer _heartbeat;
    private readonly NetMQTimer _resend = new(TimeSpan.FromMilliseconds(250));
    private readonly NetMQPoller _poller;
    private readonly Channel<Envelope> _commands = Channel.CreateUnbounded<Envelope>();

    public MasterLink(WorkerSettings settings, TimeProvider time, ILogger<MasterLink> logger)
    {
        _settings = settings;
        _logger = logger;
        Outbox = new Outbox(settings.Batch, time, ResendAfter);
        _heartbeat = new NetMQTimer(settings.Heartbeat);
        _socket.Options.Identity = Encoding.UTF8.GetBytes(settings.Identity);
        _socket.Options.Linger = TimeSpan.FromMilliseconds(500);
        _socket.Options.SendHighWatermark = 100_000;
        _socket.ReceiveReady += (_, e) => Received(e.Socket.ReceiveMultipartBytes());
        _outgoing.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var frame, TimeSpan.Zero))
            {
                // Never blocks the poller: what cannot be queued now is resent from the outbox.
                _socket.TrySendFrame(TimeSpan.Zero, frame);
            }
        };
        _heartbeat.Elapsed += (_, _) => _socket.TrySendFrame(TimeSpan.Zero, HeartbeatFrame());
        _resend.Elapsed += (_, _) =>
        {
            foreach (var message in Outbox.Due(all: false))
            {
                _socket.TrySendFrame(TimeSpan.Zero, message.ToJson());
            }
        };
        _poller = [_socket, _outgoing, _heartbeat, _resend];
    }

    public Outbox Outbox { get; }

    public ChannelReader<Envelope> Commands => _commands.Reader;

    /// <summary>What the heartbeat reports (state, execution, step), asked on the poller thread.</summary>
    public Func<JsonObject> Status { get; set; } = () => [];

    public void Start()
    {
        _socket.Connect(_settings.Master);
        _poller.RunAsync("master-link");
        _outgoing.Enqueue(HeartbeatFrame()); // at once: the master learns this worker is there
        LogConnected(_settings.Master);
    }

    public void Send(Envelope message) => _outgoing.Enqueue(message.ToJson());

    /// <summary>Numbers an execution event, keeps it until acknowledged, and sends it.</summary>
    public void Publish(string execution, string type, JsonObject body) => Send(Outbox.Add(execution, type, body));

    private void Received(List<byte[]> frames)
    {
        // A ROUTER peer sends [payload]; a REQ-style peer [empty, payload]: the payload is the last frame.
        var frame = frames.Count == 0 ? [] : frames[^1];
        var (message, error) = EnvelopeReader.Read(frame, MessageTypes.ToWorker);
        if (message is null)
        {
            LogRefused(error!.Code, error.Message, EnvelopeReader.Preview(frame));
            _socket.TrySendFrame(TimeSpan.Zero, Envelope.Failed(_settings.Batch, null, error).ToJson());
            return;
        }

        switch (message.Type)
        {
            case MessageTypes.Ack:
                Outbox.Acknowledge(message.Execution!, message.Sequence!.Value);
                break;
            case MessageTypes.GetStatus:
                // Answered here, on the socket's own thread: a status is read-only, and the round trip
                // through the command loop would add two thread hops to a question asked every second.
                _socket.TrySendFrame(TimeSpan.Zero, Envelope.Succeeded(message, Status()).ToJson());
                break;
            case MessageTypes.Hello:
                foreach (var pending in Outbox.Due(all: true))
                {
                    _socket.TrySendFrame(TimeSpan.Zero, pending.ToJson());
                }

                break;
            default:
                _commands.Writer.TryWrite(message);
                break;
        }
    }

    private string HeartbeatFrame()
    {
        var body = Status();
        body["pending"] = Outbox.Count;
        return new Envelope(MessageTypes.Heartbeat, _settings.Batch) { Body = body }.ToJson();
    }

    /// <summary>Waits (bounded) for the master to acknowledge what is pending: a clean exit leaves nothing unsent.</summary>
    public async Task DrainAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (Outbox.Count > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _poller.Stop();
        _poller.Dispose();
        _socket.Dispose();
        _outgoing.Dispose();
        _commands.Writer.TryComplete();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "connected to the master at {Address}")]
    private partial void LogConnected(string address);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "refused a message from the master: {Code}: {Reason} (frame: {Preview})")]
    private partial void LogRefused(string code, string reason, string preview);
}
