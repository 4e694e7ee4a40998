namespace PluginHost.Contracts.Units;

/// <summary>
/// A process the host supervises. <paramref name="StartTimeTicks"/> is the kernel's start time of the
/// process (clock ticks since boot on Linux): with the pid it identifies the process, so a recycled
/// pid is never mistaken for it.
/// </summary>
public sealed record RunningProcess(int Pid, int ProcessGroupId, long StartTimeTicks, DateTimeOffset StartedAt, LaunchIo Io);
