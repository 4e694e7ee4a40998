using System.Threading.Channels;
using PluginHost.Contracts.Events;

namespace PluginHost.Core.Events;

/// <summary>
/// The host's in-process event stream. Publishing never blocks: each subscriber has a bounded
/// queue, and a subscriber that does not keep up loses its oldest events (counted in
/// <see cref="Subscription.Dropped"/>), so a slow reader can never slow supervision.
/// </summary>
internal sealed class EventBus
{
    public const int DefaultCapacity = 1024;
    public const int DefaultRecentCapacity = 1000;

    private readonly Lock _gate = new();
    private readonly List<Subscription> _subscriptions = [];
    private readonly Queue<HostEvent> _recent = new();
    private readonly int _recentCapacity;

    /// <param name="recentCapacity">How many events <see cref="Recent"/> keeps.</param>
    public EventBus(int recentCapacity = DefaultRecentCapacity)
    {
        _recentCapacity = recentCapacity;
    }

    public void Publish(HostEvent hostEvent)
    {
        ArgumentNullException.ThrowIfNull(hostEvent);
        Subscription[] subscribers;
        lock (_gate)
        {
            _recent.Enqueue(hostEvent);
            if (_recent.Count > _recentCapacity)
            {
                _recent.Dequeue();
            }

            subscribers = [.. _subscriptions];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber.Offer(hostEvent);
        }
    }

    /// <summary>The most recent events, oldest first.</summary>
    public IReadOnlyList<HostEvent> Recent()
    {
        lock (_gate)
        {
            return [.. _recent];
        }
    }

    public Subscription Subscribe(int capacity = DefaultCapacity)
    {
        var subscription = new Subscription(this, capacity);
        lock (_gate)
        {
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
        private readonly Channel<HostEvent> _channel;
        private long _dropped;

        public Subscription(EventBus bus, int capacity)
        {
            _bus = bus;
            _channel = Channel.CreateBounded<HostEvent>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ => Interlocked.Increment(ref _dropped));
        }

        public ChannelReader<HostEvent> Reader => _channel.Reader;

        public long Dropped => Interlocked.Read(ref _dropped);

        internal void Offer(HostEvent hostEvent) => _channel.Writer.TryWrite(hostEvent);

        public void Dispose()
        {
            _bus.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}
