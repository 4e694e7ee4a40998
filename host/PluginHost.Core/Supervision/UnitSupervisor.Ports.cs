using System.Text.Json.Nodes;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision;

internal sealed partial class UnitSupervisor
{
    /// <summary>
    /// Another process listens on a port of this unit: a <c>port_conflict</c> event (an alert) naming
    /// it, before a start that found the port taken or while the unit runs.
    /// </summary>
    public void ReportPortConflict(PortListeners.Listener listener, bool whileRunning)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var holder = listener.Pid > 0 ? $"pid {listener.Pid} ({listener.Command})" : listener.Command;
        _events.Publish(PortConflictMonitor.EventKind, new JsonObject
        {
            ["code"] = "PORT_CONFLICT",
            ["port"] = listener.Port,
            ["pid"] = listener.Pid > 0 ? listener.Pid : null,
            ["command"] = listener.Command,
            ["whileRunning"] = whileRunning,
            ["message"] = whileRunning
                ? $"Port {listener.Port} of {Name} is also listened on by {holder}."
                : $"Port {listener.Port}, which {Name} asks for, is held by {holder}.",
            ["remedy"] = listener.Pid > 0
                ? $"Stop that process (kill {listener.Pid}) if it should not run, or give {Name} another port in its manifest's ports: section."
                : $"Find the process with `ss -ltnp sport = :{listener.Port}` (as root) and stop it, or give {Name} another port.",
        });
    }

    /// <summary>
    /// Names whoever holds the preferred ports the allocator could not give (a start that failed), or
    /// moved the unit off (it scanned to a free one): each a <c>port_conflict</c>. Returns what to add
    /// to the failure's message.
    /// </summary>
    private string NamePortHolders(IReadOnlyDictionary<string, int>? allocated)
    {
        var said = new List<string>();
        foreach (var request in Manifest.Ports.Where(r => r.Preferred > 0 && (allocated is null || allocated.GetValueOrDefault(r.Name) != r.Preferred)))
        {
            foreach (var listener in PortListeners.On(request.Preferred))
            {
                ReportPortConflict(listener, whileRunning: false);
                said.Add(listener.Pid > 0 ? $"port {listener.Port} is held by pid {listener.Pid} ({listener.Command})" : $"port {listener.Port} is held by {listener.Command}");
            }
        }

        return said.Count == 0 ? "" : " (" + string.Join("; ", said) + ")";
    }
}
