using System.Net;
using System.Net.Sockets;
using PluginHost.Core.Supervision;
using PluginHost.Core.Tests.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Alerts;

/// <summary>
/// Another process on a unit's port, with a real listening socket (this test process's): named by
/// pid and command line before the start it blocks and while the unit runs, and an alert in the
/// alerts log — never the unit's own listener.
/// </summary>
public sealed class PortConflictTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task A_port_held_by_another_process_fails_the_start_naming_that_process()
    {
        using var squatter = Listen(out var port);
        await _engine.RunAsync(Unit("blocked", port, "exec sleep 1000"));
        var status = await _engine.WaitForAsync("blocked", s => s.LastError is not null, "the start to fail");
        Assert.Contains($"port {port} is held by pid {Environment.ProcessId}", status.LastError!.Message, StringComparison.Ordinal);
        var conflict = _engine.EventsOf("blocked").First(e => e.Kind == PortConflictMonitor.EventKind);
        Assert.Equal(Environment.ProcessId, conflict.Payload.GetProperty("pid").GetInt32());
        Assert.False(conflict.Payload.GetProperty("whileRunning").GetBoolean());
        await AlertLogged($"PORT_CONFLICT blocked: Port {port}, which blocked asks for, is held by pid {Environment.ProcessId}");
    }

    [Fact]
    public async Task Another_listener_on_a_running_units_port_is_found_and_its_own_and_the_hosts_are_not()
    {
        // The unit listens on its own port (python's http.server); a second socket on the same port
        // (SO_REUSEPORT, as a second copy of a server would) comes first from the host itself — a
        // plugin's in-host side of the unit, as the station master binds the port its workers use —
        // then from another process.
        var port = FreePort();
        await _engine.RunAsync(Unit("server", port, $"exec /usr/bin/python3 -c \\\"import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1); s.bind(('127.0.0.1', {port})); s.listen(); print('up', flush=True); time.sleep(1000)\\\""));
        await _engine.WaitForAsync("server", s => s.State == "ready" && _engine.Unit("server").Log.Tail(5).Any(l => l.Text == "up"), "the server to listen");
        var monitor = new PortConflictMonitor(_engine.Supervisor.Units, TimeProvider.System, Timeout.InfiniteTimeSpan);
        Assert.Empty(monitor.Check()); // its own socket is not a conflict

        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        second.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT, Linux */, BitConverter.GetBytes(1));
        second.Bind(new IPEndPoint(IPAddress.Loopback, port));
        second.Listen();
        Assert.Empty(monitor.Check()); // the host's own socket is not a conflict either

        var marker = new string('x', 210); // a command line longer than the 200 characters reported
        using var other = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3",
            ["-c", $"import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1); s.bind(('127.0.0.1', {port})); s.listen(); print('up', flush=True); time.sleep(1000)", marker])
            { RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("up", await other.StandardOutput.ReadLineAsync());
            var conflict = Assert.Single(monitor.Check());
            Assert.Equal(("server", port, other.Id), (conflict.Unit.Name, conflict.Listener.Port, conflict.Listener.Pid));
            Assert.StartsWith("/usr/bin/python3 -c import socket", conflict.Listener.Command, StringComparison.Ordinal);
            Assert.EndsWith("…", conflict.Listener.Command, StringComparison.Ordinal); // its command line, cut at 200 characters
            Assert.Single(monitor.Check()); // still there: not reported twice
            Assert.Single(_engine.EventsOf("server"), e => e.Kind == PortConflictMonitor.EventKind);
            await AlertLogged($"PORT_CONFLICT server: Port {port} of server is also listened on by pid {other.Id}");
        }
        finally
        {
            other.Kill();
            await other.WaitForExitAsync();
        }
    }

    private async Task AlertLogged(string text)
    {
        var log = Path.Combine(_engine.Data, "logs", "alerts.log");
        await Contracts.Testing.Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllText(log).Contains(text, StringComparison.Ordinal), EngineFixture.Deadline, $"\"{text}\" in the alerts log");
    }

    private static string Unit(string name, int port, string script) => $$"""
        apiVersion: pluginhost/v1
        kind: process
        name: {{name}}
        restart: never
        ports: { http: { preferred: {{port}}, scan: 0 } }
        spec: { command: /bin/sh, args: [-c, "{{script}}"] }
        """;

    private static Socket Listen(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    private static int FreePort()
    {
        using var socket = Listen(out var port);
        return port;
    }
}
