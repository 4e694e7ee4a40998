using System.Net;
using System.Net.Sockets;
using PluginHost.Core.Processes;

namespace PluginHost.Tests;

/// <summary>What end-to-end tests ask of the machine after a stop: is that process gone, is that port free.</summary>
internal static class Liveness
{
    public static bool IsAlive(int pid) => ProcStat.Read(pid) is { IsZombie: false };

    public static bool PortIsFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
