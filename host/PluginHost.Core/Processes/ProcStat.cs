using System.Globalization;

namespace PluginHost.Core.Processes;

/// <summary>The fields of /proc/PID/stat the host needs: identity (start time), group, session, CPU and memory.</summary>
internal sealed record ProcStat(int Pid, char State, int ParentPid, int ProcessGroup, int Session, long UserTicks, long SystemTicks, long StartTimeTicks, long RssPages)
{
    public static readonly long PageSize = Environment.SystemPageSize;

    public bool IsZombie => State is 'Z' or 'X';

    /// <summary>Reads /proc/PID/stat into a stack buffer: the scans on the stop path read it for every process on the machine.</summary>
    public static ProcStat? Read(int pid)
    {
        Span<byte> buffer = stackalloc byte[1024];
        int length;
        try
        {
            using var handle = File.OpenHandle(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
            length = RandomAccess.Read(handle, buffer, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return Parse(pid, buffer[..length]);
    }

    public static ProcStat? Parse(int pid, ReadOnlySpan<byte> text)
    {
        // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
        var close = text.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= text.Length)
        {
            return null;
        }

        var rest = text[(close + 2)..];
        Span<long> fields = stackalloc long[22]; // fields 3..24 of stat(5); field 25 (rsslim) may not fit a long
        var state = (char)rest[0];
        var index = 0;
        foreach (var range in rest.Split((byte)' '))
        {
            if (index > 0 && index < fields.Length)
            {
                if (!long.TryParse(rest[range], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out fields[index]))
                {
                    return null;
                }
            }

            if (++index == fields.Length)
            {
                break;
            }
        }

        if (index < 22)
        {
            return null;
        }

        // fields[i] holds stat field i + 3.
        return new ProcStat(pid, state, (int)fields[1], (int)fields[2], (int)fields[3], fields[11], fields[12], fields[19], fields[21]);
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
