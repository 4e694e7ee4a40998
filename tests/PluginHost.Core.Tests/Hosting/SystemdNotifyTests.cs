using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Hosting;
using Xunit;

namespace PluginHost.Core.Tests.Hosting;

/// <summary>The notify protocol's datagrams and the watchdog's cadence, on a clock the test moves (the end-to-end test is InstallTests).</summary>
[Collection(SerialCollection.Name)] // it sets the process's environment
public sealed class SystemdNotifyTests : IDisposable
{
    private readonly TempDirectory _temp = new("notify");
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    public SystemdNotifyTests() => _socket.Bind(new UnixDomainSocketEndPoint(_temp.Combine("notify.sock")));

    public void Dispose()
    {
        foreach (var name in new[] { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID" })
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        _socket.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void The_watchdog_is_pinged_at_half_its_interval_until_stopping_and_the_variables_leave_the_environment()
    {
        var clock = new ManualTimeProvider();
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", _temp.Combine("notify.sock"));
        Environment.SetEnvironmentVariable("WATCHDOG_USEC", "30000000");
        using var notify = SystemdNotify.FromEnvironment(clock, NullLogger.Instance)!;
        Assert.Null(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")); // no unit inherits it
        Assert.Null(Environment.GetEnvironmentVariable("WATCHDOG_USEC"));
        Assert.Equal(TimeSpan.FromSeconds(30), notify.WatchdogInterval);

        notify.Ready("2 unit(s) loaded");
        Assert.Equal($"READY=1\nSTATUS=2 unit(s) loaded\nMAINPID={Environment.ProcessId}", Receive());
        clock.Advance(TimeSpan.FromSeconds(14.999));
        Assert.Equal(0, _socket.Available);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("WATCHDOG=1", Receive());
        clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("WATCHDOG=1", Receive());

        notify.Stopping("stopping units");
        Assert.Equal("STOPPING=1\nSTATUS=stopping units", Receive());
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, _socket.Available);
    }

    [Fact]
    public void A_watchdog_meant_for_another_process_is_not_pinged_and_no_socket_means_no_notifier()
    {
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", _temp.Combine("notify.sock"));
        Environment.SetEnvironmentVariable("WATCHDOG_USEC", "1000000");
        Environment.SetEnvironmentVariable("WATCHDOG_PID", "1");
        using (var notify = SystemdNotify.FromEnvironment(new ManualTimeProvider(), NullLogger.Instance)!)
        {
            Assert.Null(notify.WatchdogInterval);
        }

        Assert.Null(SystemdNotify.FromEnvironment(TimeProvider.System, NullLogger.Instance));
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", "relative/path");
        Assert.Null(SystemdNotify.FromEnvironment(TimeProvider.System, NullLogger.Instance));
    }

    private string Receive()
    {
        var buffer = new byte[4096];
        _socket.ReceiveTimeout = 5000;
        return Encoding.UTF8.GetString(buffer, 0, _socket.Receive(buffer));
    }
}
