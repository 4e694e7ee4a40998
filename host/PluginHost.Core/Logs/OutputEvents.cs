using System.Text.Json.Nodes;
using PluginHost.Contracts.Events;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>
/// Publishes a unit's output lines as events of one kind (<see cref="LaunchPlan.OutputEventKind"/>),
/// at most a given number per second: a burst of output must not push the state transitions out of
/// the event journal or flood every SSE client. Lines left out are counted on the next event
/// (<c>skipped</c>); the unit's log file and follow stream keep every line.
/// </summary>
internal sealed class OutputEvents : IDisposable
{
    private readonly UnitLog _log;
    private readonly IEventPublisher _events;
    private readonly string _kind;
    private readonly int _perSecond;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _windowStart;
    private int _inWindow;
    private long _skipped;

    private OutputEvents(UnitLog log, IEventPublisher events, string kind, int perSecond, TimeProvider time)
    {
        _log = log;
        _events = events;
        _kind = kind;
        _perSecond = Math.Max(1, perSecond);
        _time = time;
        _windowStart = time.GetTimestamp();
        log.LineCaptured += OnLine;
    }

    /// <summary>Starts forwarding when a kind is given (the plan's, or the journal's for an adopted process); null otherwise.</summary>
    public static OutputEvents? Attach(string? kind, int perSecond, UnitLog log, IEventPublisher events, TimeProvider time) =>
        string.IsNullOrEmpty(kind) ? null : new OutputEvents(log, events, kind, perSecond, time);

    private void OnLine(OutputLine line)
    {
        long skipped;
        lock (_gate)
        {
            if (_time.GetElapsedTime(_windowStart) >= TimeSpan.FromSeconds(1))
            {
                _windowStart = _time.GetTimestamp();
                _inWindow = 0;
            }

            if (++_inWindow > _perSecond)
            {
                _skipped++;
                return;
            }

            skipped = _skipped;
            _skipped = 0;
        }

        var payload = new JsonObject
        {
            ["stream"] = line.Stream.ToString().ToLowerInvariant(),
            ["line"] = line.Text,
        };
        if (skipped > 0)
        {
            payload["skipped"] = skipped;
        }

        _events.Publish(_kind, payload);
    }

    public void Dispose() => _log.LineCaptured -= OnLine;
}
