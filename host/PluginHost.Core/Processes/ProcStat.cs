using System.Globalization;

namespace PluginHost.Core.Processes;

/// <summary>The fields of /proc/PID/stat the host needs: identity (start time), group, session, CPU and memory.</summary>
internal sealed record ProcStat(int Pid, char State, int ParentPid, int ProcessGroup, int Session, long UserTicks, long SystemTicks, long StartTimeTicks, long RssPages)
{
    public static readonly long PageSize = Environment.SystemPageSize;

    public bool IsZombie => State is 'Z' or 'X';

    public static ProcStat? Read(int pid)
    {
        try
        {
            return Parse(pid, File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static ProcStat? Parse(int pid, string text)
    {
        // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var f = text[(close + 2)..].Split(' ');
        if (f.Length < 22)
        {
            return null;
        }

        long L(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture);
        return new ProcStat(pid, f[0][0], (int)L(4), (int)L(5), (int)L(6), L(14), L(15), L(22), L(24));
    }

    /// <summary>Every live process of a session (what a unit started, however deep, unless it left the session).</summary>
    public static IReadOnlyList<ProcStat> SessionMembers(int session) =>
        All().Where(stat => stat.Session == session || stat.ProcessGroup == session).ToArray();

    /// <summary>Every live (non-zombie) process on the machine: one pass over /proc.</summary>
    public static IEnumerable<ProcStat> All()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Read(pid) is { IsZombie: false } stat)
            {
                yield return stat;
            }
        }
    }
}
