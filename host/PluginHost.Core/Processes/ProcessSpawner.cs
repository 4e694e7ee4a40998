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
        var stderr = CreatePipe();
        try
        {
            var pid = SpawnRaw(request.Command, [request.Command, .. request.Arguments], Environment(request.Environment), request.WorkingDirectory,
                [(stdout.Write, 1), (stderr.Write, 2)], [0]);
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
                [(stdoutRead, OutputHolder.StdoutFd), (stderrRead, OutputHolder.StderrFd)], [0, 1, 2]);
        }
        catch (SpawnException)
        {
            // The unit already runs: failing here would orphan it. It only loses output across a host crash.
            return 0;
        }
    }

    /// <summary>posix_spawn into a new session: <paramref name="dups"/> become the child's descriptors, <paramref name="nullFds"/> /dev/null.</summary>
    private static int SpawnRaw(string command, IEnumerable<string> argvList, IEnumerable<string> environment, string workingDirectory, (int From, int To)[] dups, int[] nullFds)
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
            foreach (var fd in nullFds)
            {
                Check(LibC.posix_spawn_file_actions_addopen(actions, fd, "/dev/null", fd == 0 ? LibC.O_RDONLY : LibC.O_RDWR, 0), "addopen");
            }

            foreach (var (from, to) in dups)
            {
                Check(LibC.posix_spawn_file_actions_adddup2(actions, from, to), "adddup2");
            }

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
            throw new SpawnException(Marshal.GetLastPInvokeError(), "pipe2 failed: " + Marshal.GetLastPInvokeErrorMessage());
        }

        LibC.fcntl(fds[1], LibC.F_SETPIPE_SZ, PipeBytes); // best effort
        return new PipeFds { Read = fds[0], Write = fds[1] };
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
