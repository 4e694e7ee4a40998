using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Processes;
using PluginHost.Core.Storage;
using PluginHost.Core.Supervision.Launch;

namespace PluginHost.Core.Supervision;

internal sealed partial class UnitSupervisor
{
    /// <summary>
    /// After a host restart: takes over the process the journal says this unit runs, if it is still
    /// the same process (pid and kernel start time match) and its output holder is alive. Output
    /// written while no host was running waits in the pipes and is read first.
    /// </summary>
    /// <returns>True when the process was adopted (the unit is ready again, no duplicate started).</returns>
    public async Task<bool> AdoptAsync(ProcessRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!IsSameProcess(record.Pid, record.StartTimeTicks) || !IsSameProcess(record.HolderPid, record.HolderStartTimeTicks))
        {
            return false;
        }

        try
        {
            Log.CopyOutputTo(record.StandardOutPath, record.StandardErrorPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogDriverFailed(Name, "output copy", ex.Message); // the host's own capture goes on
        }

        var child = ChildLauncher.Reopen(record, Manifest.Stop, Log, _context.Events, _services.Time);
        var process = child.Process;
        _ = WatchHolderAsync(child, record);
        _services.Ports.Reserve(Name, record.Ports);
        _context.Ports = record.Ports;
        _context.Process = process;
        lock (_gate)
        {
            _child = child;
            _startedAt = record.StartedAt;
            _wantRunning = true;
        }

        Move(UnitState.Starting, $"re-attaching to pid {record.Pid} after a host restart");
        AttachResult answer;
        try
        {
            answer = await Driver.AttachAsync(_context, process, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            answer = AttachResult.Refuse($"the plugin's AttachAsync threw {ex.GetType().Name}: {ex.Message}");
        }

        if (!answer.Adopted)
        {
            Restart($"the plugin refused to adopt pid {record.Pid}: {answer.Reason}");
            return true;
        }

        Move(UnitState.Ready, $"re-attached to pid {record.Pid} after a host restart");
        lock (_gate)
        {
            Poke("watch the re-attached process");
        }

        return true;
    }

    private static bool IsSameProcess(int pid, long startTimeTicks) =>
        pid > 0 && ProcStat.Read(pid) is { IsZombie: false } stat && stat.StartTimeTicks == startTimeTicks;
}
