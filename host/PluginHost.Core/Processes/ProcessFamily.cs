namespace PluginHost.Core.Processes;

/// <summary>
/// Every process that belongs to one unit: the members of its session (or process group), all
/// their descendants by parentage — a child that calls <c>setsid</c> leaves the session, not the
/// family — and the outsiders seen so far (a descendant that left the session is recorded when a
/// scan sees it, so that it is still known after its parent exits and it is handed to init).
/// </summary>
/// <remarks>
/// What cannot be caught without cgroups: a process that leaves the session and whose parent exits
/// before any scan saw it (scans run at every stop and every usage sample: 2 s apart, up to a minute
/// with thousands of units). Its parent is then init; nothing left in /proc ties it to the unit.
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
        var known = KnownOutsiders();
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

        return Recorded(members);
    }

    /// <summary>
    /// The live members now, reading the stat of members only: every process's session and group
    /// are asked with getsid/getpgid (a syscall each, no file), and descendants are followed through
    /// /proc/PID/task/TID/children. A full read of /proc cost ≈ 20 µs per process on the machine, on
    /// every restart and at every check of a stop — with 1,000 units, 40 ms each time.
    /// </summary>
    public List<ProcStat> Members()
    {
        if (!ChildrenListed)
        {
            var all = ProcStat.All().ToArray();
            return MembersIn(all, all.ToLookup(p => p.ParentPid));
        }

        var known = KnownOutsiders();
        var pending = new Queue<(int Pid, int Parent)>();
        foreach (var pid in ProcStat.Pids())
        {
            if (LibC.getsid(pid) == Session || LibC.getpgid(pid) == Session)
            {
                pending.Enqueue((pid, 0));
            }
        }

        foreach (var outsider in known)
        {
            pending.Enqueue((outsider.Pid, 0));
        }

        var members = new Dictionary<int, ProcStat>();
        while (pending.TryDequeue(out var next))
        {
            if (members.ContainsKey(next.Pid) || ProcStat.Read(next.Pid) is not { IsZombie: false } stat)
            {
                continue;
            }

            // The pid's stat, not the hint it was queued with, decides: a pid may have been reused since.
            var belongs = stat.Session == Session || stat.ProcessGroup == Session
                || known.Contains(new(stat.Pid, stat.StartTimeTicks))
                || (next.Parent != 0 && stat.ParentPid == next.Parent);
            if (!belongs)
            {
                continue;
            }

            members[stat.Pid] = stat;
            foreach (var child in Children(stat.Pid))
            {
                pending.Enqueue((child, stat.Pid));
            }
        }

        return Recorded(members);
    }

    private HashSet<ProcessIdentity> KnownOutsiders()
    {
        lock (_gate)
        {
            return [.. _outsiders];
        }
    }

    private List<ProcStat> Recorded(Dictionary<int, ProcStat> members)
    {
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

    /// <summary>Whether the kernel lists each thread's children (CONFIG_PROC_CHILDREN; Debian's and Ubuntu's kernels do).</summary>
    private static readonly bool ChildrenListed = File.Exists($"/proc/self/task/{Environment.ProcessId}/children");

    /// <summary>The children of every thread of the process (a thread that forks is the parent).</summary>
    private static List<int> Children(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                foreach (var field in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (int.TryParse(field, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var child))
                    {
                        children.Add(child);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile: it has no children left to find.
        }

        return children;
    }
}

/// <summary>A process as the kernel tells it apart for good: its pid and its start time.</summary>
internal readonly record struct ProcessIdentity(int Pid, long StartTimeTicks);
