using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PluginHost.Core.Processes;

/// <summary>
/// Starts a unit's process with posix_spawn as the leader of a new session (so its process group
/// is its own and can be signalled whole), stdin on /dev/null, stdout and stderr on pipes the
/// host reads, every signal at its default disposition and none blocked (.NET ignores SIGPIPE;
/// a child must not inherit that).
/// </summary>
internal static unsafe class ProcessSpawner
{
    /// <summary>A pipe this large absorbs a burst while the reader catches up; the kernel caps it at /proc/sys/fs/pipe-max-size.</summary>
    private const int PipeBytes = 1024 * 1024;

    /// <summary>Where the output holder's program is; `sleep infinity` holds file descriptors and does nothing else.</summary>
    private static readonly string? SleepPath = new[] { "/bin/sleep", "/usr/bin/sleep" }.FirstOrDefault(File.Exists);

    public static SpawnedProcess Spawn(SpawnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stdout = CreatePipe();
        PipeFds stderr = new() { Read = -1, Write = -1 };
        try
        {
            stderr = CreatePipe();
            DescriptorReserve.Check(Math.Max(stderr.Read, stderr.Write));
            var pid = SpawnRaw(request.Command, [request.Command, .. request.Arguments], Environment(request.Environment), request.WorkingDirectory,
                [(0, "/dev/null", LibC.O_RDONLY)], [(stdout.Write, 1), (stderr.Write, 2)]);
            LibC.close(stdout.Write);
            LibC.close(stderr.Write);
            stdout.Write = stderr.Write = -1;
            var startTime = ProcStat.Read(pid)?.StartTimeTicks ?? 0;

            // A second process, in a session of its own, keeps the read ends open: if the host dies,
            // the unit's writes wait in the pipe (nothing lost, no SIGPIPE) until a new host reopens
            // them through /proc/HOLDER/fd/3 and /proc/HOLDER/fd/4.
            var holder = SpawnHolder(stdout.Read, stderr.Read);
            var holderStart = holder == 0 ? 0 : ProcStat.Read(holder)?.StartTimeTicks ?? 0;
            return new SpawnedProcess(pid, startTime, new SafePipeHandle(stdout.Read, ownsHandle: true), new SafePipeHandle(stderr.Read, ownsHandle: true), holder, holderStart);
        }
        catch
        {
            foreach (var fd in new[] { stdout.Read, stdout.Write, stderr.Read, stderr.Write }.Where(fd => fd >= 0))
            {
                LibC.close(fd);
            }

            throw;
        }
    }

    /// <summary>
    /// Starts a short-lived helper (an exec probe) in a session of its own, every standard stream on
    /// /dev/null, so that it and whatever it leaves behind can be stopped as a group.
    /// </summary>
    /// <returns>Its pid, which is also its session id.</returns>
    public static int SpawnDetached(SpawnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SpawnRaw(request.Command, [request.Command, .. request.Arguments], Environment(request.Environment), request.WorkingDirectory,
            [(0, "/dev/null", LibC.O_RDONLY), (1, "/dev/null", LibC.O_RDWR), (2, "/dev/null", LibC.O_RDWR)], []);
    }

    /// <summary>
    /// Starts the process on a new pseudo-terminal: the slave is its stdin, stdout, stderr and
    /// controlling terminal (it leads a new session); the host keeps the master.
    /// </summary>
    public static SpawnedTerminal SpawnPty(SpawnRequest request, int columns, int rows)
    {
        ArgumentNullException.ThrowIfNull(request);
        var master = LibC.posix_openpt(LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_CLOEXEC);
        if (master < 0)
        {
            throw DescriptorCallFailed("posix_openpt");
        }

        try
        {
            DescriptorReserve.Check(master);
            if (LibC.grantpt(master) != 0 || LibC.unlockpt(master) != 0)
            {
                throw new SpawnException(Marshal.GetLastPInvokeError(), "grantpt/unlockpt failed: " + Marshal.GetLastPInvokeErrorMessage());
            }

            var name = stackalloc byte[128];
            Check(LibC.ptsname_r(master, name, 128), "ptsname_r");
            var slave = Marshal.PtrToStringUTF8((nint)name)!;
            var size = new LibC.WinSize { Columns = (ushort)columns, Rows = (ushort)rows };
            LibC.ioctl(master, LibC.TIOCSWINSZ, &size);
            var environment = new Dictionary<string, string>(request.Environment, StringComparer.Ordinal);
            environment.TryAdd("TERM", System.Environment.GetEnvironmentVariable("TERM") is { Length: > 0 } term && term != "dumb" ? term : "xterm-256color");
            var pid = SpawnRaw(request.Command, [request.Command, .. request.Arguments], Environment(environment), request.WorkingDirectory,
                [(0, slave, LibC.O_RDWR)], [(0, 1), (0, 2)]);
            return new SpawnedTerminal(pid, ProcStat.Read(pid)?.StartTimeTicks ?? 0, master, slave);
        }
        catch
        {
            LibC.close(master);
            throw;
        }
    }

    /// <summary>A new output holder for pipes whose holder died: it gets the host's own read ends as its fds 3 and 4.</summary>
    /// <returns>Its pid and start time; pid 0 when none could be started.</returns>
    public static (int Pid, long StartTimeTicks) ReplaceHolder(SafePipeHandle stdout, SafePipeHandle stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var pid = SpawnHolder((int)stdout.DangerousGetHandle(), (int)stderr.DangerousGetHandle());
        return (pid, pid == 0 ? 0 : ProcStat.Read(pid)?.StartTimeTicks ?? 0);
    }

    /// <returns>The holder's pid, or 0 when none could be started (the unit then runs without crash-proof output).</returns>
    private static int SpawnHolder(int stdoutRead, int stderrRead)
    {
        if (SleepPath is null)
        {
            return 0;
        }

        try
        {
            return SpawnRaw(SleepPath, ["pluginhost-output-holder", "infinity"], [], "/",
                [(0, "/dev/null", LibC.O_RDONLY), (1, "/dev/null", LibC.O_RDWR), (2, "/dev/null", LibC.O_RDWR)],
                [(stdoutRead, OutputHolder.StdoutFd), (stderrRead, OutputHolder.StderrFd)]);
        }
        catch (SpawnException)
        {
            // The unit already runs: failing here would orphan it. It only loses output across a host crash.
            return 0;
        }
    }

    /// <summary>
    /// posix_spawn into a new session: <paramref name="opens"/> are opened as the child's descriptors
    /// first, then <paramref name="dups"/> copied. glibc runs setsid before the file actions, so a
    /// terminal opened here becomes the child's controlling terminal.
    /// </summary>
    private static int SpawnRaw(string command, IEnumerable<string> argvList, IEnumerable<string> environment, string workingDirectory,
        (int Fd, string Path, int Flags)[] opens, (int From, int To)[] dups)
    {
        var actions = NativeMemory.AllocZeroed(LibC.SpawnStructSize);
        var attributes = NativeMemory.AllocZeroed(LibC.SpawnStructSize);
        var defaults = NativeMemory.AllocZeroed(LibC.SpawnStructSize);
        var mask = NativeMemory.AllocZeroed(LibC.SpawnStructSize);
        var argv = Strings.ToNative(argvList);
        var envp = Strings.ToNative(environment);
        var path = Strings.ToNative([command]);
        try
        {
            Check(LibC.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            Check(LibC.posix_spawnattr_init(attributes), "posix_spawnattr_init");
            foreach (var (fd, file, flags) in opens)
            {
                Check(LibC.posix_spawn_file_actions_addopen(actions, fd, file, flags, 0), "addopen");
            }

            foreach (var (from, to) in dups)
            {
                Check(LibC.posix_spawn_file_actions_adddup2(actions, from, to), "adddup2");
            }

            // Nothing beyond the descriptors named here: a unit outlives the host by design, and a
            // descriptor it inherited by accident (a lock, a pipe of the host's parent) would be held
            // as long as it runs. Every host descriptor is close-on-exec too (InheritedDescriptors).
            Check(LibC.posix_spawn_file_actions_addclosefrom_np(actions, FirstUnnamed(opens, dups)), "addclosefrom_np");

            Check(LibC.posix_spawn_file_actions_addchdir_np(actions, workingDirectory), "addchdir");
            LibC.sigfillset(defaults);
            LibC.sigemptyset(mask);
            Check(LibC.posix_spawnattr_setsigdefault(attributes, defaults), "setsigdefault");
            Check(LibC.posix_spawnattr_setsigmask(attributes, mask), "setsigmask");
            Check(LibC.posix_spawnattr_setflags(attributes, LibC.POSIX_SPAWN_SETSID | LibC.POSIX_SPAWN_SETSIGDEF | LibC.POSIX_SPAWN_SETSIGMASK), "setflags");

            int pid;
            var error = LibC.posix_spawn(&pid, path[0], actions, attributes, argv, envp);
            if (error != 0)
            {
                throw new SpawnException(error, Describe(error, command, workingDirectory));
            }

            return pid;
        }
        finally
        {
            LibC.posix_spawn_file_actions_destroy(actions);
            LibC.posix_spawnattr_destroy(attributes);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(defaults);
            NativeMemory.Free(mask);
            Strings.Free(argv);
            Strings.Free(envp);
            Strings.Free(path);
        }
    }

    /// <summary>The lowest descriptor the child is not given on purpose: 3 for a unit, 5 for an output holder.</summary>
    private static int FirstUnnamed((int Fd, string Path, int Flags)[] opens, (int From, int To)[] dups) =>
        opens.Select(o => o.Fd).Concat(dups.Select(d => d.To)).Append(2).Max() + 1;

    private static IEnumerable<string> Environment(IReadOnlyDictionary<string, string> overrides)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            all[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        foreach (var (name, value) in overrides)
        {
            all[name] = value;
        }

        return all.Select(e => $"{e.Key}={e.Value}");
    }

    private static PipeFds CreatePipe()
    {
        var fds = stackalloc int[2];
        if (LibC.pipe2(fds, LibC.O_CLOEXEC) != 0)
        {
            throw DescriptorCallFailed("pipe2");
        }

        LibC.fcntl(fds[1], LibC.F_SETPIPE_SZ, PipeBytes); // best effort
        return new PipeFds { Read = fds[0], Write = fds[1] };
    }

    /// <summary>A call that makes descriptors failed: out of them (EMFILE) says so with the remedy.</summary>
    private static SpawnException DescriptorCallFailed(string call)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new SpawnException(errno, errno == LibC.EMFILE
            ? DescriptorReserve.OutOfDescriptors(DescriptorReserve.Limit())
            : $"{call} failed: " + Marshal.GetPInvokeErrorMessage(errno));
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new SpawnException(result, $"{call} failed with errno {result}");
        }
    }

    private static string Describe(int errno, string command, string workingDirectory) => errno switch
    {
        LibC.ENOENT => $"{command}: no such file, or the working directory {workingDirectory} does not exist",
        LibC.EACCES => $"{command}: permission denied (not executable, or the working directory is not accessible)",
        _ => $"{command}: posix_spawn failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})",
    };

    private struct PipeFds
    {
        public int Read;
        public int Write;
    }

    private static class Strings
    {
        public static byte** ToNative(IEnumerable<string> values)
        {
            var list = values.ToArray();
            var array = (byte**)NativeMemory.AllocZeroed((nuint)(list.Length + 1), (nuint)sizeof(byte*));
            for (var i = 0; i < list.Length; i++)
            {
                array[i] = (byte*)Marshal.StringToCoTaskMemUTF8(list[i]);
            }

            return array;
        }

        public static void Free(byte** array)
        {
            for (var p = array; *p != null; p++)
            {
                Marshal.FreeCoTaskMem((nint)(*p));
            }

            NativeMemory.Free(array);
        }
    }
}

/// <summary>A just-spawned process: its pid (= process group = session id), the read ends of its output, and the output holder (0 if none).</summary>
internal sealed record SpawnedProcess(int Pid, long StartTimeTicks, SafePipeHandle Stdout, SafePipeHandle Stderr, int HolderPid, long HolderStartTimeTicks);

/// <summary>A process on a pseudo-terminal: the host owns <paramref name="MasterFd"/>.</summary>
internal sealed record SpawnedTerminal(int Pid, long StartTimeTicks, int MasterFd, string SlavePath);
