using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace PluginHost.Core.Hosting;

/// <summary>
/// The host's side of systemd's notify protocol (sd_notify(3)), when systemd started it as a
/// <c>Type=notify</c> service: <c>READY=1</c> once its units are loaded, <c>STOPPING=1</c> when it
/// begins to stop, <c>STATUS=</c> lines, and <c>WATCHDOG=1</c> at half the interval systemd asks for
/// (<c>WatchdogSec=</c>). The variables are taken out of the host's environment so that no unit
/// inherits them (sd_notify's unset_environment). A datagram that cannot be sent is logged, never fatal.
/// </summary>
internal sealed partial class SystemdNotify : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endpoint;
    private readonly ILogger _logger;
    private readonly ITimer? _watchdog;
    private volatile bool _stopping;

    private SystemdNotify(string address, TimeSpan? watchdog, TimeProvider time, ILogger logger)
    {
        _logger = logger;
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        // "@name" is an abstract socket: its first byte is NUL.
        _endpoint = new UnixDomainSocketEndPoint(address.StartsWith('@') ? "\0" + address[1..] : address);
        if (watchdog is { } interval)
        {
            WatchdogInterval = interval;
            _watchdog = time.CreateTimer(_ => Send("WATCHDOG=1"), null, interval / 2, interval / 2);
        }
    }

    /// <summary>The interval systemd expects a ping within, when it asked for one.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>Null when the host was not started by systemd as a notify service (no NOTIFY_SOCKET).</summary>
    public static SystemdNotify? FromEnvironment(TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(time);
        var address = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        var watchdogUsec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        var watchdogPid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        foreach (var name in new[] { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID" })
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        if (string.IsNullOrEmpty(address) || (address[0] != '/' && address[0] != '@'))
        {
            return null;
        }

        TimeSpan? watchdog = null;
        var forUs = watchdogPid is null || watchdogPid == Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        if (forUs && long.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0)
        {
            watchdog = TimeSpan.FromMicroseconds(usec);
        }

        return new SystemdNotify(address, watchdog, time, logger);
    }

    public void Ready(string status) => Send($"READY=1\nSTATUS={OneLine(status)}\nMAINPID={Environment.ProcessId}");

    public void Status(string status) => Send("STATUS=" + OneLine(status));

    public void Stopping(string status)
    {
        _stopping = true;
        _watchdog?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Send($"STOPPING=1\nSTATUS={OneLine(status)}");
    }

    private void Send(string message)
    {
        if (_stopping && message.StartsWith("WATCHDOG", StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message), _endpoint);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            LogNotifyFailed(_logger, message.Split('\n')[0], ex.Message);
        }
    }

    private static string OneLine(string text) => text.Replace('\n', ' ');

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell systemd {Message}: {Reason}")]
    private static partial void LogNotifyFailed(ILogger logger, string message, string reason);

    public void Dispose()
    {
        _watchdog?.Dispose();
        _socket.Dispose();
    }
}
