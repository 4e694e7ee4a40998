using Microsoft.Win32.SafeHandles;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision.Launch;

/// <summary>
/// The output holder of one running process (DESIGN.md §4 "Host restart"), watched: if it dies while
/// the unit runs — `kill -9` by a careless operator — nothing would hold the pipes open across the
/// next host crash, and the unit would die of SIGPIPE with its output lost. So a new holder is
/// started with the host's own read ends, before that can happen.
/// </summary>
internal sealed class OutputHolderWatch
{
    private readonly Lock _gate = new();
    private readonly SafePipeHandle? _stdout;
    private readonly SafePipeHandle? _stderr;
    private bool _released;

    /// <param name="stdout">The host's read end of the unit's stdout (null: no holder to keep, e.g. a pty).</param>
    public OutputHolderWatch(int pid, long startTimeTicks, bool isChild, SafePipeHandle? stdout, SafePipeHandle? stderr)
    {
        (Pid, StartTimeTicks, IsChild) = (pid, startTimeTicks, isChild);
        (_stdout, _stderr) = (stdout, stderr);
        Exited = pid > 0 ? HolderExits.WhenExited(pid, isChild) : Task.FromResult(ExitStatus.Unknown);
    }

    public static OutputHolderWatch None { get; } = new(0, 0, false, null, null);

    public int Pid { get; private set; }

    public long StartTimeTicks { get; private set; }

    /// <summary>True when this host started the current holder (and reaps it).</summary>
    public bool IsChild { get; private set; }

    /// <summary>Completes when the current holder exits.</summary>
    public Task<ExitStatus> Exited { get; private set; }

    public bool IsReleased
    {
        get
        {
            lock (_gate)
            {
                return _released;
            }
        }
    }

    /// <summary>Starts a holder in place of the dead one.</summary>
    /// <returns>The new holder's pid; 0 when none could be started, or the pipes are gone (the unit's output has ended).</returns>
    public int Replace()
    {
        lock (_gate)
        {
            if (_released || _stdout is null || _stderr is null)
            {
                return 0;
            }

            bool outAdded = false, errAdded = false;
            try
            {
                // Held open while the new holder is spawned: a pipe the pump closed meanwhile has ended anyway.
                _stdout.DangerousAddRef(ref outAdded);
                _stderr.DangerousAddRef(ref errAdded);
                var (pid, start) = ProcessSpawner.ReplaceHolder(_stdout, _stderr);
                if (pid > 0)
                {
                    (Pid, StartTimeTicks, IsChild) = (pid, start, true);
                    Exited = HolderExits.WhenExited(pid, isChild: true);
                }

                return pid;
            }
            catch (ObjectDisposedException)
            {
                return 0;
            }
            finally
            {
                if (outAdded)
                {
                    _stdout.DangerousRelease();
                }

                if (errAdded)
                {
                    _stderr.DangerousRelease();
                }
            }
        }
    }

    /// <summary>Ends the holder: the unit's output has been read to its end.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _released = true;
            OutputHolder.Release(Pid, StartTimeTicks, IsChild, watched: true);
        }
    }
}
