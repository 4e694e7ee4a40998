using System.Globalization;
using System.Runtime.InteropServices;

namespace PluginHost.Core.Processes;

/// <summary>The fields of /proc/PID/stat the host needs: identity (start time), group, session, CPU, memory and threads.</summary>
internal sealed record ProcStat(int Pid, char State, int ParentPid, int ProcessGroup, int Session, long UserTicks, long SystemTicks, long StartTimeTicks, long RssPages, int Threads)
{
    public static readonly long PageSize = Environment.SystemPageSize;

    public bool IsZombie => State is 'Z' or 'X';

    /// <summary>
    /// Reads /proc/PID/stat with plain open/read/close into stack buffers: the scans on the crash and
    /// stop paths read it for every process on the machine (File.OpenHandle adds an fstat and a
    /// string per process, which doubled the scan).
    /// </summary>
    public static unsafe ProcStat? Read(int pid)
    {
        byte* path = stackalloc byte[32];
        var pathSpan = new Span<byte>(path, 31);
        if (!System.Text.Unicode.Utf8.TryWrite(pathSpan, CultureInfo.InvariantCulture, $"/proc/{pid}/stat", out var pathLength))
        {
            return null;
        }

        path[pathLength] = 0;
        var fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            return null; // gone (or not ours to read)
        }

        byte* buffer = stackalloc byte[1024];
        nint length;
        do
        {
            length = LibC.read(fd, buffer, 1024);
        }
        while (length < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);

        LibC.close(fd);
        return length <= 0 ? null : Parse(pid, new ReadOnlySpan<byte>(buffer, (int)length));
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
        return new ProcStat(pid, state, (int)fields[1], (int)fields[2], (int)fields[3], fields[11], fields[12], fields[19], fields[21], (int)fields[17]);
    }

    /// <summary>Every live process of a session (what a unit started, however deep, unless it left the session).</summary>
    public static IReadOnlyList<ProcStat> SessionMembers(int session) =>
        All().Where(stat => stat.Session == session || stat.ProcessGroup == session).ToArray();

    /// <summary>
    /// The pids in /proc now, read from its directory only, with getdents64 into a stack buffer: the
    /// crash path lists them before every restart, and Directory.EnumerateDirectories took ≈ 250 µs
    /// for 130 entries there (a string per entry, cold paths after an idle while).
    /// </summary>
    /// <exception cref="IOException">/proc cannot be opened (not Linux, or the host is out of descriptors).</exception>
    public static unsafe List<int> Pids()
    {
        byte* path = stackalloc byte[] { (byte)'/', (byte)'p', (byte)'r', (byte)'o', (byte)'c', 0 };
        var fd = LibC.open(path, LibC.O_RDONLY | LibC.DirectoryFlag | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException("cannot open /proc: " + Marshal.GetLastPInvokeErrorMessage());
        }

        const int Size = 16 * 1024;
        var buffer = stackalloc byte[Size];
        var pids = new List<int>(256);
        try
        {
            nint length;
            while ((length = LibC.getdents64(fd, buffer, Size)) > 0)
            {
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                for (var offset = 0; offset < length; offset += *(ushort*)(buffer + offset + 16))
                {
                    var name = buffer + offset + 19;
                    var pid = 0;
                    var i = 0;
                    for (; name[i] is >= (byte)'0' and <= (byte)'9' && i < 10; i++)
                    {
                        pid = (pid * 10) + (name[i] - '0');
                    }

                    if (i > 0 && name[i] == 0)
                    {
                        pids.Add(pid);
                    }
                }
            }

            if (length < 0)
            {
                throw new IOException("cannot read /proc: " + Marshal.GetLastPInvokeErrorMessage());
            }
        }
        finally
        {
            LibC.close(fd);
        }

        return pids;
    }

    /// <summary>Every live (non-zombie) process on the machine: one pass over /proc.</summary>
    public static IEnumerable<ProcStat> All()
    {
        foreach (var pid in Pids())
        {
            if (Read(pid) is { IsZombie: false } stat)
            {
                yield return stat;
            }
        }
    }
}
