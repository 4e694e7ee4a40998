using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision.Launch;

/// <summary>One process the unit started: its identity, how to stop it, and tasks for its exit and for the end of its output.</summary>
internal sealed record RunningChild(RunningProcess Process, StopSettings Stop, Task<ExitStatus> Exited, Task OutputDrained, OutputHolderWatch Holder)
{
    public int Pid => Process.Pid;

    public int Session => Process.ProcessGroupId;

    /// <summary>Everything this process started, within its session and beyond (what a stop ends).</summary>
    public ProcessFamily Family { get; } = new(Process.ProcessGroupId);

    /// <summary>Output lines forwarded as events while this process runs, when its plan asked for it.</summary>
    public IDisposable? OutputEvents { get; init; }

    /// <summary>The pseudo-terminal, when the plan asked for one (the host owns its master).</summary>
    public Terminals.PtyTerminal? Terminal { get; init; }
}
