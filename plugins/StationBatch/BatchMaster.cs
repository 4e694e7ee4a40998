using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using PluginHost.Contracts.Events;
using PluginHost.Plugins.StationBatch.Results;
using PluginHost.Station.Protocol;

namespace PluginHost.Plugins.StationBatch;

/// <summary>
/// The master's end of one batch: a ROUTER on the unit's loopback port, served by one NetMQ poller
/// thread. Execution events are taken in order, recorded durably, then acknowledged and published
/// as host events (<c>station_step_complete</c>…); commands wait for their REPLY with a timeout;
/// heartbeats say when the worker was last heard from. Binding retries while the port is still
/// held (by the previous plugin version during a hot reload): the worker resends what it missed.
/// </summary>
internal sealed partial class BatchMaster : IAsyncDisposable
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private readonly string _batch;
    private readonly int _port;
    private readonly ExecutionRecords _records;
    private readonly IEventPublisher _events;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Action<string, string, JsonObject>? _observe;
    private readonly RouterSocket _socket = new();
    private readonly NetMQQueue<Action> _work = new();
    private readonly NetMQPoller _poller;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Envelope>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _identity;
    private long _commands;
    private long _lastHeardTicks;
    private JsonObject _lastStatus = [];
    private bool _helloSent;

    /// <param name="session">The worker's session (docs/station.md): only the peer with identity BATCH/SESSION is this batch's worker.</param>
    /// <param name="results">The station's results database (shared by its batches).</param>
    /// <param name="dataDirectory">The unit's own folder: records of a part-1 master (<c>executions/*.jsonl</c>) are moved into the database from there.</param>
    /// <param name="observe">Told of every event taken (after it is recorded): the station's WebSocket.</param>
    public BatchMaster(string batch, string session, int port, string results, string station, string dataDirectory, IEventPublisher events, ILogger logger, TimeProvider time,
        Action<string, string, JsonObject>? observe = null)
    {
        (_batch, Session, _port, _events, _logger, _time, _observe) = (batch, session, port, events, logger, time, observe);
        Started = time.GetUtcNow();
        _identity = Encoding.UTF8.GetBytes($"{batch}/{session}");
        try
        {
            _records = new ExecutionRecords(results, station, batch, time);
            _records.ImportJsonLines(Path.Combine(dataDirectory, "executions"));
        }
        catch
        {
            _records?.Dispose();
            _socket.Dispose();
            _work.Dispose();
            throw;
        }

        _socket.Options.RouterMandatory = true; // a command to a worker that is not connected fails at once, not silently
        _socket.Options.Linger = TimeSpan.Zero;
        // The poller thread runs in the host: nothing the plugin does on it may end the host.
        _socket.ReceiveReady += (_, _) => Contained("taking the worker's messages", ReceiveBurst);
        _work.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var action, TimeSpan.Zero))
            {
                Contained("a queued action", action);
            }
        };
        _poller = [_socket, _work];
        _poller.RunAsync($"station-master-{batch}");
        Bound = BindAsync();
    }

    public string Endpoint => $"tcp://127.0.0.1:{_port}";

    public string Batch => _batch;

    public string Session { get; }

    /// <summary>When this master was made: a worker is not silent to it before it could have heard anything.</summary>
    public DateTimeOffset Started { get; }

    public ExecutionRecords Records => _records;

    /// <summary>Completes once the ROUTER is bound.</summary>
    public Task Bound { get; }

    public DateTimeOffset? LastHeard => Interlocked.Read(ref _lastHeardTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>The worker's last heartbeat body (state, execution, step, lastVerdict).</summary>
    public JsonObject LastStatus => (JsonObject)Volatile.Read(ref _lastStatus).DeepClone();

    /// <summary>Sends a command and waits for its REPLY.</summary>
    public async Task<Envelope> SendAsync(string type, JsonObject? body, CancellationToken cancellationToken)
    {
        await Bound.WaitAsync(cancellationToken).ConfigureAwait(false);
        var id = $"c{Interlocked.Increment(ref _commands)}";
        var reply = new TaskCompletionSource<Envelope>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var frame = Envelope.Command(type, _batch, id, body).ToJson();
        _work.Enqueue(() =>
        {
            try
            {
                _socket.SendMoreFrame(_identity).SendFrame(frame);
            }
            catch (HostUnreachableException)
            {
                reply.TrySetResult(Envelope.Failed(_batch, id, new ProtocolError("WORKER_NOT_CONNECTED", $"batch {_batch}'s worker is not connected to the master")));
            }
        });
        try
        {
            return await reply.Task.WaitAsync(CommandTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return Envelope.Failed(_batch, id, new ProtocolError("COMMAND_TIMEOUT", $"batch {_batch}'s worker did not answer {type} within {CommandTimeout.TotalSeconds:F0} s"));
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Marks the executions the worker left unfinished as aborted (its process ended).</summary>
    public Task AbortUnfinishedAsync(string reason)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Enqueue(() =>
        {
            foreach (var execution in _records.Unfinished().ToArray())
            {
                var seq = _records.Abort(execution, reason);
                Publish(MessageTypes.SequenceAborted, execution, seq, new JsonObject { ["reason"] = reason });
            }

            done.TrySetResult();
        });
        return done.Task;
    }

    private async Task BindAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var bound = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _work.Enqueue(() =>
            {
                try
                {
                    _socket.Bind(Endpoint);
                    bound.TrySetResult(true);
                }
                catch (AddressAlreadyInUseException)
                {
                    bound.TrySetResult(false);
                }
                catch (NetMQException ex) when (ex.ErrorCode == ErrorCode.AddressAlreadyInUse)
                {
                    bound.TrySetResult(false);
                }
            });
            if (await bound.Task.ConfigureAwait(false))
            {
                LogBound(_batch, Endpoint);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, _stopping.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Everything that is waiting (up to a bound), then one commit of the events taken, then their
    /// acknowledgements and host events: a burst costs one flush to the disk, not one per event.
    /// </summary>
    private void ReceiveBurst()
    {
        const int MaxBurst = 2000;
        var taken = new List<(byte[] Identity, Envelope Message)>();
        var answered = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var frames = new List<byte[]>();
        for (var i = 0; i < MaxBurst && _socket.TryReceiveMultipartBytes(TimeSpan.Zero, ref frames); i++)
        {
            Received(frames, taken, answered);
            frames = [];
        }

        if (answered.Count == 0)
        {
            return;
        }

        try
        {
            _records.Commit();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SqliteFailure)
        {
            // Not recorded, so not acknowledged: the worker keeps the events and sends them again.
            LogRecordFailed(_batch, string.Join(", ", answered.Keys), ex.Message);
            return;
        }

        foreach (var (_, message) in taken)
        {
            Publish(message.Type, message.Execution!, message.Sequence!.Value, message.Body);
        }

        // Taken now or before (a resend): acknowledged up to what is recorded. A gap (a later number
        // first) is not acknowledged past it; the worker sends the missing ones again.
        foreach (var (execution, identity) in answered)
        {
            if (_records.Last(execution) is var last and > 0)
            {
                TrySend(identity, new Envelope(MessageTypes.Ack, _batch) { Execution = execution, Sequence = last });
            }
        }
    }

    private void Received(List<byte[]> frames, List<(byte[], Envelope)> taken, Dictionary<string, byte[]> answered)
    {
        if (frames.Count < 2)
        {
            return; // a ROUTER always gets [identity, ...]; anything less is not a peer's message
        }

        var identity = frames[0];
        var frame = frames[^1];
        if (!identity.AsSpan().SequenceEqual(_identity))
        {
            // Another worker (a stray one of the same batch name, a peer that is not a worker): nothing it says is taken.
            LogStranger(_batch, Encoding.UTF8.GetString(identity), EnvelopeReader.Preview(frame));
            TrySend(identity, Envelope.Failed(_batch, null, new ProtocolError("WRONG_SESSION", $"this master serves batch {_batch}'s worker of session {Session} only")));
            return;
        }

        var (message, error) = EnvelopeReader.Read(frame, MessageTypes.ToMaster);
        if (message is null || message.Batch != _batch)
        {
            error ??= new ProtocolError("WRONG_BATCH", $"this master serves batch {_batch}, not {message!.Batch}");
            LogRefused(_batch, error.Code, error.Message, EnvelopeReader.Preview(frame));
            TrySend(identity, Envelope.Failed(_batch, null, error));
            return;
        }

        Interlocked.Exchange(ref _lastHeardTicks, _time.GetUtcNow().UtcTicks);
        if (!_helloSent)
        {
            // First word from the worker since this master started: ask it to resend what waits unacknowledged.
            _helloSent = TrySend(identity, new Envelope(MessageTypes.Hello, _batch));
        }

        switch (message.Type)
        {
            case MessageTypes.Heartbeat:
                Volatile.Write(ref _lastStatus, message.Body ?? []);
                break;
            case MessageTypes.Reply:
                if (message.Re is { } re && _pending.TryGetValue(re, out var waiter))
                {
                    waiter.TrySetResult(message);
                }

                break;
            default:
                try
                {
                    if (_records.TryTake(message))
                    {
                        taken.Add((identity, message));
                    }

                    answered[message.Execution!] = identity;
                }
                catch (ArgumentException ex)
                {
                    LogRefused(_batch, "MALFORMED_MESSAGE", ex.Message, EnvelopeReader.Preview(frame));
                }

                break;
        }
    }

    /// <summary>Runs <paramref name="work"/>; a failure is logged with the batch, and what was not recorded is not acknowledged (the worker sends it again).</summary>
    private void Contained(string what, Action work)
    {
        try
        {
            work();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFault(_batch, what, ex.GetType().Name, ex.Message);
        }
    }

    private void Publish(string type, string execution, long seq, JsonObject? body)
    {
        var payload = body?.DeepClone() as JsonObject ?? [];
        payload["batch"] = _batch;
        payload["execution"] = execution;
        payload["seq"] = seq;
        _events.Publish("station_" + type.ToLowerInvariant(), payload);
        _observe?.Invoke(_batch, type, payload);
    }

    private bool TrySend(byte[] identity, Envelope message)
    {
        try
        {
            return _socket.TrySendMultipartBytes(TimeSpan.Zero, [identity, Encoding.UTF8.GetBytes(message.ToJson())]);
        }
        catch (HostUnreachableException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Bound.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _poller.Stop();
        _poller.Dispose();
        _socket.Dispose();
        _work.Dispose();
        _records.Dispose(); // after the poller, its only user, has stopped
        foreach (var waiter in _pending.Values)
        {
            waiter.TrySetResult(Envelope.Failed(_batch, null, new ProtocolError("MASTER_STOPPED", "the master stopped (plugin reload or host stop)")));
        }

        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "batch {Batch}: master listening on {Endpoint}")]
    private partial void LogBound(string batch, string endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "batch {Batch}: refused a message from the worker: {Code}: {Reason} (frame: {Preview})")]
    private partial void LogRefused(string batch, string code, string reason, string preview);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "batch {Batch}: refused a peer that is not this batch's worker (identity {Identity}; frame: {Preview})")]
    private partial void LogStranger(string batch, string identity, string preview);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "batch {Batch}: the master failed at {What}: {Type}: {Reason}; nothing unrecorded was acknowledged, and the master goes on")]
    private partial void LogFault(string batch, string what, string type, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "batch {Batch}: an event of execution {Execution} could not be recorded ({Reason}); the worker will send it again")]
    private partial void LogRecordFailed(string batch, string execution, string reason);
}
