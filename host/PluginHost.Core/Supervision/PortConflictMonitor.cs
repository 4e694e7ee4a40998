using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision;

/// <summary>
/// While units run, looks for another process listening on a port a unit was given (the seed's
/// monitoring script, built in): each conflict is a <c>port_conflict</c> event of that unit naming
/// the process (pid and command line), once until it ends. The check costs two reads of
/// /proc/net when nothing listens; processes are looked into only when something does.
/// </summary>
internal sealed class PortConflictMonitor : IDisposable
{
    public const string EventKind = "port_conflict";
    private readonly Func<IEnumerable<UnitSupervisor>> _units;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private HashSet<(string Unit, int Port, int Pid)> _reported = [];

    public PortConflictMonitor(Func<IEnumerable<UnitSupervisor>> units, TimeProvider time, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(time);
        _units = units;
        _timer = time.CreateTimer(_ => CheckWhenDue(), null, interval, interval);
    }

    private void CheckWhenDue()
    {
        try
        {
            Check();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // /proc unreadable for a moment (the host out of descriptors, say): a timer's exception
            // would end the host, so this round is skipped and the next one looks again.
        }
    }

    /// <summary>One round over every running unit's ports; returns the conflicts seen now.</summary>
    public IReadOnlyList<(UnitSupervisor Unit, PortListeners.Listener Listener)> Check()
    {
        if (!_gate.TryEnter())
        {
            return []; // the last round still runs
        }

        try
        {
            var conflicts = Find();
            var now = new HashSet<(string, int, int)>();
            foreach (var (unit, listener) in conflicts)
            {
                var key = (unit.Name, listener.Port, listener.Pid);
                now.Add(key);
                if (!_reported.Contains(key))
                {
                    unit.ReportPortConflict(listener, whileRunning: true);
                }
            }

            _reported = now;
            return conflicts;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Who may listen on a unit's ports: its family, and the host itself — a socket in the host on a
    /// unit's port is a plugin's in-host side of that unit (the station master binds the port its
    /// workers connect to), not a second server. Before a start, the host holding a port still blocks it.
    /// </summary>
    private static HashSet<int> Own(IEnumerable<ProcStat> family) => [.. family.Select(m => m.Pid), Environment.ProcessId];

    private List<(UnitSupervisor, PortListeners.Listener)> Find()
    {
        // Units with a process and ports, each with what it was given and the family that may listen on them.
        var running = _units().Where(u => u.Family is not null && u.Context.Ports.Count > 0)
            .Select(u => (Unit: u, Ports: u.Context.Ports, Family: u.Family!)).ToList();

        var conflicts = new List<(UnitSupervisor, PortListeners.Listener)>();
        if (running.Count == 0)
        {
            return conflicts;
        }

        if (OperatingSystem.IsMacOS())
        {
            foreach (var (unit, ports, family) in running)
            {
                var members = Own(family.Members());
                conflicts.AddRange(ports.Values.SelectMany(PortListeners.On).Where(l => !members.Contains(l.Pid)).Select(l => (unit, l)));
            }

            return conflicts;
        }

        var listening = PortListeners.ListeningInodes(running.SelectMany(r => r.Ports.Values).ToHashSet());
        if (listening.Count == 0)
        {
            return conflicts; // nobody listens on any unit's port
        }

        // One scan of /proc for the round, shared by every unit's family (as the usage sampler does).
        var all = ProcStat.All().ToArray();
        var children = all.ToLookup(p => p.ParentPid);
        foreach (var (unit, ports, family) in running)
        {
            var inodes = ports.Values.Where(listening.ContainsKey).SelectMany(p => listening[p]).ToHashSet();
            if (inodes.Count == 0)
            {
                continue; // nobody listens on its ports (yet): nothing to name
            }

            // The unit's own sockets first (a few processes), every process's descriptors only for the rest.
            var members = Own(family.MembersIn(all, children));
            inodes.ExceptWith(PortListeners.Holders(inodes, members).Select(h => h.Inode));
            if (inodes.Count == 0)
            {
                continue;
            }

            var holders = PortListeners.Holders(inodes).Where(h => !members.Contains(h.Pid)).ToList();
            foreach (var port in ports.Values.Where(listening.ContainsKey))
            {
                var theirs = holders.Where(h => listening[port].Contains(h.Inode)).Select(h => h.Pid).Distinct().ToList();
                if (theirs.Count == 0 && listening[port].Overlaps(inodes))
                {
                    conflicts.Add((unit, new PortListeners.Listener(port, 0, "a process this host cannot see (another user's, or in another namespace)")));
                }

                conflicts.AddRange(theirs.Select(pid => (unit, new PortListeners.Listener(port, pid, PortListeners.CommandLine(pid)))));
            }
        }

        return conflicts;
    }

    public void Dispose() => _timer.Dispose();
}
