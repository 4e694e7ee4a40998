using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision;

/// <summary>
/// The one transition table of every unit (DESIGN.md §4). Anything not listed here is a bug in
/// the engine, and <see cref="Check"/> says so; tests walk the whole table.
/// </summary>
internal static class Lifecycle
{
    private static readonly Dictionary<UnitState, UnitState[]> Allowed = new()
    {
        // Not started since the host (or the unit) was created.
        [UnitState.Idle] = [UnitState.Starting, UnitState.Stopped],

        // Preflight, ports, spawn, readiness. Ends ready, or in backoff / failed / stopped after a failure or a stop request.
        [UnitState.Starting] = [UnitState.Ready, UnitState.Backoff, UnitState.Failed, UnitState.Stopping, UnitState.Stopped, UnitState.Restarting],

        // Running and healthy. Leaves on exit (backoff / failed / stopped), stop or restart request.
        [UnitState.Ready] = [UnitState.Backoff, UnitState.Failed, UnitState.Stopping, UnitState.Stopped, UnitState.Restarting],

        // Waiting before the next start.
        [UnitState.Backoff] = [UnitState.Starting, UnitState.Stopped, UnitState.Failed],

        // Stopping the old process before starting again; a stop request meanwhile turns it into a plain stop.
        [UnitState.Restarting] = [UnitState.Starting, UnitState.Stopping, UnitState.Stopped, UnitState.Failed],

        // Stopping a process: on request (then stopped), or cleaning up after a ready unit's process
        // exited on its own (then whatever its restart policy decides), so a dead process is never
        // reported ready while what it left behind is stopped.
        [UnitState.Stopping] = [UnitState.Backoff, UnitState.Stopped, UnitState.Failed],

        [UnitState.Stopped] = [UnitState.Starting],

        // Gave up (intensity limit, or a failure the policy does not restart). Only an explicit start leaves it.
        [UnitState.Failed] = [UnitState.Starting, UnitState.Stopped],
    };

    public static bool CanMove(UnitState from, UnitState to) => Allowed[from].Contains(to);

    public static void Check(UnitState from, UnitState to)
    {
        if (!CanMove(from, to))
        {
            throw new InvalidOperationException($"illegal unit transition {from} -> {to}");
        }
    }

    /// <summary>A process may be running (or being stopped) in this state.</summary>
    public static bool IsActive(UnitState state) => state is UnitState.Starting or UnitState.Ready or UnitState.Restarting or UnitState.Stopping;

    /// <summary>The unit is meant to run (it will be running, or is being brought back).</summary>
    public static bool WantsToRun(UnitState state) => state is UnitState.Starting or UnitState.Ready or UnitState.Restarting or UnitState.Backoff;

    public static string Name(UnitState state) => state.ToString().ToLowerInvariant();
}
