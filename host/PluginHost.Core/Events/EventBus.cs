using System.Threading.Channels;
using PluginHost.Contracts.Events;

namespace PluginHost.Core.Events;

/// <summary>
/// The host's in-process event stream. Every event gets the next sequence id (the SSE event id a
/// client resumes from). Publishing never blocks: each subscriber has a bounded queue, and a
/// subscriber that does not keep up loses its oldest events (counted in
/// <see cref="Subscription.Dropped"/>), so a slow reader can never slow supervision.
/// </summary>
internal sealed class EventBus
{
    public const int DefaultCapacity = 1024;
    public const int DefaultRecentCapacity = 1000;

    private readonly Lock _gate = new();
    private readonly List<Subscription> _subscriptions = [];
    private readonly Queue<SequencedEvent> _recent = new();
    private readonly int _recentCapacity;
    private long _lastId;
    private long _published;
    private long _droppedTotal;

    /// <param name="recentCapacity">How many events <see cref="Recent"/> keeps.</param>
    public EventBus(int recentCapacity = DefaultRecentCapacity)
    {
        _recentCapacity = recentCapacity;
    }

    /// <summary>The id of the last event published (0 before the first).</summary>
    public long LastId
    {
        get
        {
            lock (_gate)
            {
                return _lastId;
            }
        }
    }

    /// <summary>Events published since this bus was created.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Events dropped, over every subscriber that fell behind, since this bus was created.</summary>
    public long DroppedTotal => Interlocked.Read(ref _droppedTotal);

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>Continues the numbering after a previous run's last id, so ids stay unique across host restarts.</summary>
    public void ContinueAfter(long lastId)
    {
        lock (_gate)
        {
            _lastId = Math.Max(_lastId, lastId);
        }
    }

    public void Publish(HostEvent hostEvent)
    {
        ArgumentNullException.ThrowIfNull(hostEvent);
        lock (_gate)
        {
            // Under the lock so that every subscriber sees the ids in increasing order.
            var sequenced = new SequencedEvent(++_lastId, hostEvent);
            _published++;
            _recent.Enqueue(sequenced);
            if (_recent.Count > _recentCapacity)
            {
                _recent.Dequeue();
            }

            foreach (var subscriber in _subscriptions)
            {
                subscriber.Offer(sequenced);
            }
        }
    }

    /// <summary>The most recent events, oldest first.</summary>
    public IReadOnlyList<HostEvent> Recent() => [.. RecentSequenced().Select(e => e.Event)];

    /// <summary>The most recent events with their ids, oldest first.</summary>
    public IReadOnlyList<SequencedEvent> RecentSequenced()
    {
        lock (_gate)
        {
            return [.. _recent];
        }
    }

    /// <param name="capacity">How many events may wait for the reader before the oldest are dropped.</param>
    /// <param name="filter">Only events it accepts are queued (and counted when dropped).</param>
    public Subscription Subscribe(int capacity = DefaultCapacity, Func<HostEvent, bool>? filter = null)
    {
        var subscription = new Subscription(this, capacity, filter);
        lock (_gate)
        {
            subscription.StartedAfter = _lastId;
            _subscriptions.Add(subscription);
        }

        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
        }
    }

    internal sealed class Subscription : IDisposable
    {
        private readonly EventBus _bus;
        private readonly Channel<SubscribedEvent> _channel;
        private readonly Func<HostEvent, bool>? _filter;
        private long _dropped;
        private long _position;

        public Subscription(EventBus bus, int capacity, Func<HostEvent, bool>? filter)
        {
            _bus = bus;
            _filter = filter;
            _channel = Channel.CreateBounded<SubscribedEvent>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ =>
                {
                    Interlocked.Increment(ref _dropped);
                    Interlocked.Increment(ref bus._droppedTotal);
                });
        }

        public ChannelReader<SubscribedEvent> Reader => _channel.Reader;

        /// <summary>The id of the last event published before this subscription: it receives only later ones.</summary>
        public long StartedAfter { get; internal set; }

        /// <summary>How many accepted events were dropped because the reader fell behind.</summary>
        public long Dropped => Interlocked.Read(ref _dropped);

        /// <summary>Called under the bus's lock, so positions follow the ids.</summary>
        internal void Offer(SequencedEvent sequenced)
        {
            if (_filter is null || _filter(sequenced.Event))
            {
                _channel.Writer.TryWrite(new SubscribedEvent(++_position, sequenced));
            }
        }

        public void Dispose()
        {
            _bus.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}

/// <summary>An event with its position on the stream.</summary>
internal sealed record SequencedEvent(long Id, HostEvent Event)
{
    private byte[]? _json;

    /// <summary>
    /// The event as the API shows it — <c>{id, kind, unit, plugin, timestamp, summary, payload}</c>, UTF-8 —
    /// made once and shared by every subscriber (100 SSE clients must not mean 100 serializations).
    /// </summary>
    public byte[] Json => _json ??= Serialize();

    private byte[] Serialize()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", Id);
            writer.WriteString("kind", Event.Kind);
            writer.WriteString("unit", Event.Unit);
            writer.WriteString("plugin", Event.Plugin);
            writer.WriteString("timestamp", Event.Timestamp);
            writer.WriteString("summary", Event.Summary);
            writer.WritePropertyName("payload");
            Event.Payload.WriteTo(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// An event as one subscriber receives it. <paramref name="Position"/> counts the events this
/// subscriber accepted (1, 2, 3…): a jump between two received events is exactly how many were
/// dropped there because the reader fell behind.
/// </summary>
internal sealed record SubscribedEvent(long Position, SequencedEvent Item)
{
    public long Id => Item.Id;

    public HostEvent Event => Item.Event;
}
