using PluginHost.Contracts.Events;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Processes;
using PluginHost.Core.Storage;
using PluginHost.Core.Terminals;

namespace PluginHost.Core.Supervision.Launch;

/// <summary>
/// Starts a unit's process the way its plan asks (pipes with an output holder, or a pseudo-terminal)
/// and wires its output into the unit's log; or takes over one a previous host started.
/// </summary>
internal static class ChildLauncher
{
    public static RunningChild Spawn(LaunchPlan plan, SpawnRequest request, StopSettings stop, UnitLog log, TimeProvider time) =>
        plan.Io == LaunchIo.Pty ? SpawnTerminal(plan, request, stop, log, time) : SpawnWithPipes(plan, request, stop, log, time);

    /// <summary>
    /// The process a journal record names, after a host restart: its pipes reopened through its
    /// output holder, so that what it wrote while no host ran is read first.
    /// </summary>
    public static RunningChild Reopen(ProcessRecord record, StopSettings stop, UnitLog log, IEventPublisher events, TimeProvider time)
    {
        var stdout = OutputHolder.Reopen(record.HolderPid, OutputHolder.StdoutFd);
        var stderr = OutputHolder.Reopen(record.HolderPid, OutputHolder.StderrFd);
        var process = new RunningProcess(record.Pid, record.Session, record.StartTimeTicks, record.StartedAt, LaunchIo.Pipes);

        // Subscribed before the pumps start, so the lines that waited in the pipes are events too.
        var outputEvents = OutputEvents.Attach(record.OutputEventKind, record.OutputEventsPerSecond, log, events, time);
        var drained = Task.WhenAll(
            OutputPump.PumpAsync(stdout, OutputStream.Stdout, log, time),
            OutputPump.PumpAsync(stderr, OutputStream.Stderr, log, time));

        // Not the host's child any more: its exit is seen through a pidfd, its exit code is not knowable.
        return new RunningChild(process, stop, ExitWatch.WhenExited(record.Pid, isChild: false), drained,
            new OutputHolderWatch(record.HolderPid, record.HolderStartTimeTicks, isChild: false, stdout, stderr))
        {
            OutputEvents = outputEvents,
        };
    }

    /// <summary>stdout and stderr on pipes, read per line; an output holder keeps them open across a host crash.</summary>
    private static RunningChild SpawnWithPipes(LaunchPlan plan, SpawnRequest request, StopSettings stop, UnitLog log, TimeProvider time)
    {
        var spawned = ProcessSpawner.Spawn(request);
        var process = new RunningProcess(spawned.Pid, spawned.Pid, spawned.StartTimeTicks, time.GetUtcNow(), plan.Io);
        var holder = new OutputHolderWatch(spawned.HolderPid, spawned.HolderStartTimeTicks, isChild: true, spawned.Stdout, spawned.Stderr);
        Task<ExitStatus> exited;
        try // watched before its pipes are read: a process that cannot be watched is killed, and its pipes closed here
        {
            exited = WatchOrKill(spawned.Pid, holder.Release);
        }
        catch
        {
            spawned.Stdout.Dispose();
            spawned.Stderr.Dispose();
            throw;
        }

        var drained = Task.WhenAll(
            OutputPump.PumpAsync(spawned.Stdout, OutputStream.Stdout, log, time),
            OutputPump.PumpAsync(spawned.Stderr, OutputStream.Stderr, log, time));
        return new RunningChild(process, stop, exited, drained, holder);
    }

    /// <summary>A pseudo-terminal the host owns: the program's controlling terminal; its output read from the master.</summary>
    private static RunningChild SpawnTerminal(LaunchPlan plan, SpawnRequest request, StopSettings stop, UnitLog log, TimeProvider time)
    {
        var spawned = ProcessSpawner.SpawnPty(request, plan.TerminalSize.Columns, plan.TerminalSize.Rows);
        var process = new RunningProcess(spawned.Pid, spawned.Pid, spawned.StartTimeTicks, time.GetUtcNow(), plan.Io);
        var terminal = new PtyTerminal(spawned, plan.TerminalSize, plan.ScrollbackBytes, log, time);
        return new RunningChild(process, stop, WatchOrKill(spawned.Pid, terminal.Dispose), terminal.Completed, OutputHolderWatch.None)
        {
            Terminal = terminal,
        };
    }

    /// <summary>
    /// A process whose exit cannot be watched (no descriptor left for its pidfd) cannot be supervised:
    /// rather than run unseen, it is killed with its session at once and reaped, and the start fails
    /// as a spawn that failed.
    /// </summary>
    private static unsafe Task<ExitStatus> WatchOrKill(int pid, Action release)
    {
        try
        {
            return ExitWatch.WhenExited(pid, isChild: true);
        }
        catch (InvalidOperationException ex)
        {
            LibC.kill(-pid, LibC.SIGKILL);
            LibC.waitpid(pid, null, 0);
            release();
            throw new SpawnException($"pid {pid} was started but cannot be watched ({ex.Message}); it was killed", ex);
        }
    }
}
