using System.Diagnostics;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision;

/// <summary>
/// CPU% and RSS of each unit's whole process tree (its session and every descendant), from /proc, at an
/// interval. CPU% is the share of one core over the last interval (200 % = two cores busy). Each
/// unit's kind is asked for its own gauges at the same time (<see cref="UnitSupervisor.MeasureGauges"/>).
/// </summary>
internal sealed class UsageSampler : IDisposable
{
    /// <summary>USER_HZ: the unit of /proc/PID/stat times; 100 on every mainstream Linux.</summary>
    private const double TicksPerSecond = 100;

    private readonly Func<IEnumerable<UnitSupervisor>> _units;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (int Session, long Ticks, long At)> _previous = new(StringComparer.Ordinal);
    private readonly ITimer _timer;

    // A pass reads /proc/PID/stat of every process on the machine (≈ 20 µs each): 44 ms with 1,000
    // units and their holders, every 2 s, was 2 % of a core. Passes are spaced so that sampling
    // takes at most 1/CostShare of a core (with 1,000 units every ≈ 9 s instead of 2 s), and never
    // less often than MaxSpacing, so that figures stay fresh and escaped descendants are still seen.
    private const int CostShare = 200;
    private static readonly TimeSpan MaxSpacing = TimeSpan.FromMinutes(1);
    private long _nextPass;

    public UsageSampler(Func<IEnumerable<UnitSupervisor>> units, TimeProvider time, TimeSpan interval)
    {
        _units = units;
        _time = time;
        _timer = time.CreateTimer(_ => SampleWhenDue(), null, interval, interval);
    }

    private void SampleWhenDue()
    {
        if (_time.GetTimestamp() < Volatile.Read(ref _nextPass))
        {
            return;
        }

        var started = _time.GetTimestamp();
        var cost = Stopwatch.GetTimestamp(); // the CPU it costs is real time, whatever clock schedules it
        try
        {
            Sample();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // /proc unreadable for a moment (the host out of descriptors, say): a timer's exception
            // would end the host, so this pass is skipped and the gauges keep their last values.
        }

        var spacing = TimeSpan.FromTicks(Math.Min(MaxSpacing.Ticks, Stopwatch.GetElapsedTime(cost).Ticks * CostShare));
        Volatile.Write(ref _nextPass, started + (long)(spacing.TotalSeconds * _time.TimestampFrequency));
    }

    public void Sample()
    {
        lock (_previous)
        {
            // One pass over /proc for all units, however many there are.
            var units = _units().ToArray();
            var all = units.Any(u => u.Family is not null) ? ProcStat.All().ToArray() : [];
            var children = all.ToLookup(s => s.ParentPid);
            foreach (var unit in units)
            {
                unit.MeasureGauges();
                if (unit.Process is not { } process || unit.Family is not { } family)
                {
                    unit.Usage = null;
                    _previous.Remove(unit.Name);
                    continue;
                }

                // The whole family, descendants beyond the session included; the scan also records
                // those outsiders, so a stop still finds them once their parent is gone.
                var members = family.MembersIn(all, children);
                var ticks = members.Sum(m => m.UserTicks + m.SystemTicks);
                var rss = members.Sum(m => m.RssPages) * ProcStat.PageSize;
                var now = _time.GetTimestamp();
                double? cpu = null;
                if (_previous.TryGetValue(unit.Name, out var last) && last.Session == process.ProcessGroupId)
                {
                    var seconds = _time.GetElapsedTime(last.At, now).TotalSeconds;
                    cpu = seconds > 0 ? Math.Round(Math.Max(0, ticks - last.Ticks) / TicksPerSecond / seconds * 100, 1) : null;
                }

                _previous[unit.Name] = (process.ProcessGroupId, ticks, now);
                unit.Usage = new ResourceUsage(cpu ?? 0, rss);
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}

/// <summary>One sample of a unit's process tree (a reference, so readers never see half of one).</summary>
internal sealed record ResourceUsage(double CpuPercent, long RssBytes);
