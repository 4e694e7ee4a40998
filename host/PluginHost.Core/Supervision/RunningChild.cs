using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision;

/// <summary>One process the unit started: its identity, how to stop it, and tasks for its exit and for the end of its output.</summary>
internal sealed record RunningChild(RunningProcess Process, StopSettings Stop, Task<ExitStatus> Exited, Task OutputDrained)
{
    public int Pid => Process.Pid;

    public int Session => Process.ProcessGroupId;
}
