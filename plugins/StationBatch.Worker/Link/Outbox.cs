using System.Text.Json.Nodes;
using PluginHost.Station.Protocol;

namespace PluginHost.Station.Worker.Link;

/// <summary>
/// The events of executions that the master has not acknowledged yet, in order. Each event gets the
/// next number of its execution; it stays here, and is sent again, until an ACK covers it — so a
/// master that was away (a plugin reload, a host crash) still gets every event, and numbers let it
/// take each exactly once. Bounded: when <paramref name="capacity"/> events wait (no master for a
/// long time), the execution waits for room at its next event rather than the worker dropping any
/// or growing without end.
/// </summary>
internal sealed class Outbox(string batch, TimeProvider time, TimeSpan resendAfter, int capacity = Outbox.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;
    private readonly object _gate = new();
    private readonly List<Pending> _pending = [];
    private readonly Dictionary<string, long> _next = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Numbers the event and keeps it until acknowledged; the caller sends it.</summary>
    public Envelope Add(string execution, string type, JsonObject body)
    {
        lock (_gate)
        {
            while (_pending.Count >= capacity)
            {
                Monitor.Wait(_gate); // an ACK makes room
            }

            var seq = _next.GetValueOrDefault(execution) + 1;
            _next[execution] = seq;
            var message = new Envelope(type, batch) { Execution = execution, Sequence = seq, Body = body };
            _pending.Add(new Pending(message, time.GetUtcNow()));
            return message;
        }
    }

    /// <summary>An ACK covers every event of its execution up to its number.</summary>
    public void Acknowledge(string execution, long upTo)
    {
        lock (_gate)
        {
            if (_pending.RemoveAll(p => p.Message.Execution == execution && p.Message.Sequence <= upTo) > 0)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>What to send again: everything (the master asked, HELLO), or what waited longer than the resend delay.</summary>
    public IReadOnlyList<Envelope> Due(bool all)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var due = new List<Envelope>();
            for (var i = 0; i < _pending.Count; i++)
            {
                if (all || now - _pending[i].SentAt >= resendAfter)
                {
                    due.Add(_pending[i].Message);
                    _pending[i] = _pending[i] with { SentAt = now };
                }
            }

            return due;
        }
    }

    private sealed record Pending(Envelope Message, DateTimeOffset SentAt);
}
