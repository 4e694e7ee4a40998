using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.PythonServer;

/// <summary>The seed's five server states, mapped from the host's lifecycle (docs/python-server.md).</summary>
internal static class ServerStatus
{
    public static string Of(UnitState state) => state switch
    {
        UnitState.Starting => "starting",
        UnitState.Ready => "running",
        UnitState.Stopping or UnitState.Restarting => "stopping",
        UnitState.Backoff or UnitState.Failed => "error",
        _ => "stopped",
    };
}
