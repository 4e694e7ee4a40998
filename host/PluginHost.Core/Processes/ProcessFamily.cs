namespace PluginHost.Core.Processes;

/// <summary>
/// Every process that belongs to one unit: the members of its session (or process group), all
/// their descendants by parentage — a child that calls <c>setsid</c> leaves the session, not the
/// family — and the outsiders seen so far (a descendant that left the session is recorded when a
/// scan sees it, so that it is still known after its parent exits and it is handed to init).
/// </summary>
/// <remarks>
/// What cannot be caught without cgroups: a process that leaves the session and whose parent exits
/// before any scan saw it (scans run at every stop and every usage sample, 2 s apart). Its parent is
/// then init; nothing left in /proc ties it to the unit.
/// </remarks>
internal sealed class ProcessFamily(int session)
{
    private readonly Lock _gate = new();
    private readonly HashSet<ProcessIdentity> _outsiders = [];

    public int Session { get; } = session;

    /// <summary>Descendants seen outside the session so far.</summary>
    public IReadOnlyCollection<ProcessIdentity> Outsiders
    {
        get
        {
            lock (_gate)
            {
                return [.. _outsiders];
            }
        }
    }

    /// <summary>The family's live members in <paramref name="all"/> (one scan of /proc); records the outsiders among them.</summary>
    public List<ProcStat> MembersIn(IReadOnlyList<ProcStat> all, ILookup<int, ProcStat> childrenByParent)
    {
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(childrenByParent);
        HashSet<ProcessIdentity> known;
        lock (_gate)
        {
            known = [.. _outsiders];
        }

        var members = new Dictionary<int, ProcStat>();
        var pending = new Queue<ProcStat>(all.Where(p => p.Session == Session || p.ProcessGroup == Session || known.Contains(new(p.Pid, p.StartTimeTicks))));
        while (pending.TryDequeue(out var process))
        {
            if (members.TryAdd(process.Pid, process))
            {
                foreach (var child in childrenByParent[process.Pid])
                {
                    pending.Enqueue(child);
                }
            }
        }

        lock (_gate)
        {
            foreach (var outsider in members.Values.Where(p => p.Session != Session && p.ProcessGroup != Session))
            {
                _outsiders.Add(new(outsider.Pid, outsider.StartTimeTicks));
            }

            // Forget the dead: a pid may be reused, the (pid, start time) pair never is.
            _outsiders.RemoveWhere(o => !members.ContainsKey(o.Pid));
        }

        return [.. members.Values];
    }

    /// <summary>Scans /proc once and returns the live members.</summary>
    public List<ProcStat> Members()
    {
        var all = ProcStat.All().ToArray();
        return MembersIn(all, all.ToLookup(p => p.ParentPid));
    }
}

/// <summary>A process as the kernel tells it apart for good: its pid and its start time.</summary>
internal readonly record struct ProcessIdentity(int Pid, long StartTimeTicks);
