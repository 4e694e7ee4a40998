using PluginHost.Contracts.Supervision;

namespace PluginHost.Core.Supervision;

/// <summary>
/// Decides, when a unit's process ends, whether and when it starts again: the restart policy,
/// exponential backoff with jitter (capped, reset after a stable uptime), the intensity limit
/// (more than N restarts within a window gives up, OTP-style) and the minimum interval between two
/// starts (launchd's ThrottleInterval). Pure: time and randomness are passed in.
/// </summary>
internal sealed class RestartPlanner(RestartSettings settings, Func<double> random)
{
    private readonly Queue<DateTimeOffset> _restarts = new();
    private int _consecutive;
    private DateTimeOffset? _lastStart;

    public RestartSettings Settings { get; } = settings;

    public void OnStarted(DateTimeOffset now) => _lastStart = now;

    /// <summary>An operator's explicit start forgets past failures.</summary>
    public void Reset()
    {
        _restarts.Clear();
        _consecutive = 0;
    }

    /// <param name="keepAlive">The kind's own verdict (launchd's KeepAlive), when it gave one: it decides in place of the policy;
    /// the intensity limit and the minimum interval still hold.</param>
    public RestartDecision OnEnded(DateTimeOffset now, bool failed, TimeSpan uptime, bool? keepAlive = null)
    {
        var restart = keepAlive ?? (Settings.Policy == RestartPolicy.Always || (Settings.Policy == RestartPolicy.OnFailure && failed));
        if (!restart)
        {
            return RestartDecision.DoNotRestart;
        }

        if (uptime >= Settings.ResetAfter)
        {
            _consecutive = 0;
        }

        while (_restarts.Count > 0 && now - _restarts.Peek() >= Settings.Window)
        {
            _restarts.Dequeue();
        }

        if (_restarts.Count >= Settings.MaxRestarts)
        {
            return RestartDecision.GiveUp($"{_restarts.Count} restarts within {PluginHost.Contracts.Specs.Duration.Format(Settings.Window)}");
        }

        var delay = Backoff(_consecutive);
        if (_lastStart is { } last && last + Settings.MinInterval - now > delay)
        {
            delay = last + Settings.MinInterval - now;
        }

        _consecutive = Math.Min(_consecutive + 1, MaxExponent);
        _restarts.Enqueue(now);
        return RestartDecision.RestartAfter(delay);
    }

    /// <summary>Beyond this many doublings every delay is the cap anyway; the count stops here so it never overflows.</summary>
    private const int MaxExponent = 64;

    private TimeSpan Backoff(int attempt)
    {
        // 0 × 2^1025 is NaN (the power overflows to infinity): a zero initial delay stays zero however
        // often it is multiplied, and an overflowing product is the cap.
        var initial = Settings.InitialBackoff.TotalMilliseconds;
        var baseMs = initial <= 0 ? 0 : initial * Math.Pow(Settings.Multiplier, attempt);
        baseMs = double.IsFinite(baseMs) ? Math.Min(baseMs, Settings.MaxBackoff.TotalMilliseconds) : Settings.MaxBackoff.TotalMilliseconds;
        var jittered = baseMs * (1 + (Settings.Jitter * ((2 * random()) - 1)));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, 0, Settings.MaxBackoff.TotalMilliseconds));
    }
}

internal sealed record RestartDecision(RestartAction Action, TimeSpan Delay, string? Reason)
{
    public static RestartDecision DoNotRestart { get; } = new(RestartAction.None, TimeSpan.Zero, null);

    public static RestartDecision RestartAfter(TimeSpan delay) => new(RestartAction.Restart, delay, null);

    public static RestartDecision GiveUp(string reason) => new(RestartAction.GiveUp, TimeSpan.Zero, reason);
}

internal enum RestartAction
{
    None,
    Restart,
    GiveUp,
}
