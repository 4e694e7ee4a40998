using System.Globalization;

namespace PluginHost.Core.Processes;

/// <summary>
/// Who listens on a TCP port, as the seed's operators asked <c>lsof -i :8003</c>: on Linux from
/// /proc/net/tcp and tcp6 (the listening sockets and their inodes) and /proc/PID/fd (whose
/// descriptor is that socket); on macOS from <c>lsof</c>. Processes the host may not look into
/// (another user's, without root) are named by what can be seen, or not at all.
/// </summary>
internal static class PortListeners
{
    private const string Listen = "0A";

    /// <summary>A process listening on a port.</summary>
    public sealed record Listener(int Port, int Pid, string Command);

    /// <summary>The socket inodes listening on each of <paramref name="ports"/> (Linux), without naming their processes: cheap, one read per table.</summary>
    public static Dictionary<int, HashSet<long>> ListeningInodes(IReadOnlySet<int> ports)
    {
        var found = new Dictionary<int, HashSet<long>>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            IEnumerable<string> lines;
            try
            {
                lines = File.ReadLines(table).Skip(1).ToList();
            }
            catch (IOException)
            {
                continue; // no IPv6 on this machine
            }

            foreach (var line in lines)
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[3] != Listen)
                {
                    continue;
                }

                var colon = fields[1].LastIndexOf(':');
                if (colon < 0 || !int.TryParse(fields[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port) || !ports.Contains(port)
                    || !long.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode) || inode == 0)
                {
                    continue;
                }

                if (!found.TryGetValue(port, out var inodes))
                {
                    found[port] = inodes = [];
                }

                inodes.Add(inode);
            }
        }

        return found;
    }

    /// <summary>The processes among <paramref name="pids"/> (all of /proc when null) holding one of these socket inodes.</summary>
    public static List<(int Pid, long Inode)> Holders(IReadOnlySet<long> inodes, IEnumerable<int>? pids = null)
    {
        var holders = new List<(int, long)>();
        foreach (var pid in pids ?? AllPids())
        {
            string[] descriptors;
            try
            {
                descriptors = Directory.GetFiles($"/proc/{pid}/fd");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // gone, or not ours to look into
            }

            foreach (var descriptor in descriptors)
            {
                string? target;
                try
                {
                    target = new FileInfo(descriptor).LinkTarget;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                // "socket:[12345]"
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)
                    && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode) && inodes.Contains(inode))
                {
                    holders.Add((pid, inode));
                    break;
                }
            }
        }

        return holders;
    }

    /// <summary>Every process listening on <paramref name="port"/>, named (pid and command line).</summary>
    public static IReadOnlyList<Listener> On(int port)
    {
        if (OperatingSystem.IsMacOS())
        {
            return Lsof(port);
        }

        if (!ListeningInodes(new HashSet<int> { port }).TryGetValue(port, out var inodes))
        {
            return [];
        }

        var holders = Holders(inodes);
        return holders.Count == 0
            ? [new Listener(port, 0, "a process this host cannot see (another user's, or in another namespace)")]
            : [.. holders.Select(h => h.Pid).Distinct().Select(pid => new Listener(port, pid, CommandLine(pid)))];
    }

    public static string CommandLine(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
            return text.Length > 0 ? (text.Length > 200 ? text[..200] + "…" : text) : File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    private static IEnumerable<int> AllPids()
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>macOS has no /proc: <c>lsof -nP -iTCP:PORT -sTCP:LISTEN -Fpc</c> (p = pid, c = command).</summary>
    private static List<Listener> Lsof(int port)
    {
        var listeners = new List<Listener>();
        try
        {
            using var lsof = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("lsof", ["-nP", $"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = lsof.StandardOutput.ReadToEnd();
            lsof.WaitForExit(5000);
            var pid = 0;
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line[0] == 'p')
                {
                    pid = int.Parse(line.AsSpan(1), CultureInfo.InvariantCulture);
                }
                else if (line[0] == 'c' && pid > 0)
                {
                    listeners.Add(new Listener(port, pid, line[1..]));
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // no lsof: the conflict is still reported, without a name
            listeners.Add(new Listener(port, 0, "a process (lsof is not available to name it)"));
        }

        return listeners;
    }
}
