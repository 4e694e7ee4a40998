using System.Net;
using System.Net.Sockets;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision;

/// <summary>
/// Chooses the ports of a start: the preferred port if it can be bound, else the next ones up to
/// the scan limit, else <c>PORT_IN_USE</c>. Ports handed to a unit stay reserved for it (even
/// before its process binds them) so two units never get the same one.
/// </summary>
internal sealed class PortAllocator
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, string> _reserved = [];

    public IReadOnlyDictionary<string, int> Allocate(string unit, IReadOnlyList<PortRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        lock (_gate)
        {
            Release(unit);
            var chosen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var request in requests)
            {
                var port = Find(request) ?? throw new PortUnavailableException(request);
                chosen[request.Name] = port;
                _reserved[port] = unit;
            }

            return chosen;
        }
    }

    /// <summary>Marks ports as taken by a unit whose process already runs (re-attached after a host restart).</summary>
    public void Reserve(string unit, IReadOnlyDictionary<string, int> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        lock (_gate)
        {
            foreach (var port in ports.Values)
            {
                _reserved[port] = unit;
            }
        }
    }

    public void Release(string unit)
    {
        lock (_gate)
        {
            foreach (var port in _reserved.Where(r => r.Value == unit).Select(r => r.Key).ToArray())
            {
                _reserved.Remove(port);
            }
        }
    }

    private int? Find(PortRequest request)
    {
        if (request.Preferred == 0)
        {
            return TryBind(0);
        }

        for (var port = request.Preferred; port <= Math.Min(65535, request.Preferred + request.Scan); port++)
        {
            if (!_reserved.ContainsKey(port) && TryBind(port) is { } free)
            {
                return free;
            }
        }

        return null;
    }

    private static int? TryBind(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return ((IPEndPoint)socket.LocalEndPoint!).Port;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}

internal sealed class PortUnavailableException : Exception
{
    public PortUnavailableException(PortRequest request)
        : base(request is null ? "no free port" : request.Preferred == 0
            ? $"no free port for \"{request.Name}\""
            : $"ports {request.Preferred}–{Math.Min(65535, request.Preferred + request.Scan)} for \"{request.Name}\" are all in use")
    {
    }

    public PortUnavailableException()
    {
    }

    public PortUnavailableException(string message)
        : base(message)
    {
    }

    public PortUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
