using System.Net;
using System.Net.Sockets;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Supervision.Health;
using Xunit;

namespace PluginHost.Core.Tests.Supervision.Health;

public sealed class LivenessMonitorTests
{
    private readonly ManualTimeProvider _clock = new();

    [Fact]
    public async Task Declares_the_unit_dead_after_three_failed_probes_ten_seconds_apart_by_default()
    {
        var script = new ProbeScript(ProbeResult.Unhealthy("no answer"));
        var monitor = new LivenessMonitor(Probe(script.AnswerAsync), _clock);

        var dead = monitor.WatchAsync(null, CancellationToken.None);
        await TickAsync(dead, TimeSpan.FromSeconds(10), times: 2);
        Assert.False(dead.IsCompleted);
        Assert.Equal(2, script.Calls);

        await TickAsync(dead, TimeSpan.FromSeconds(10), times: 1);
        Assert.Equal("3 consecutive failures: no answer", await dead.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_healthy_answer_between_failures_keeps_the_unit_alive()
    {
        var u = ProbeResult.Unhealthy("slow");
        var script = new ProbeScript(u, u, ProbeResult.Healthy, u, u, u);
        var monitor = new LivenessMonitor(Probe(script.AnswerAsync), _clock);
        var definition = new TcpProbe("http") { Interval = TimeSpan.FromSeconds(1), FailureThreshold = 3 };

        var dead = monitor.WatchAsync(definition, CancellationToken.None);
        await TickAsync(dead, TimeSpan.FromSeconds(1), times: 5);
        Assert.False(dead.IsCompleted);

        await TickAsync(dead, TimeSpan.FromSeconds(1), times: 1);
        Assert.StartsWith("3 consecutive failures", await dead.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_probe_that_throws_is_a_failure_with_the_plugins_message()
    {
        var monitor = new LivenessMonitor(Probe((_, _) => throw new InvalidOperationException("socket gone")), _clock);

        var dead = monitor.WatchAsync(new TcpProbe("http") { Interval = TimeSpan.FromSeconds(1), FailureThreshold = 1 }, CancellationToken.None);
        await TickAsync(dead, TimeSpan.FromSeconds(1), times: 1);

        Assert.Equal("1 consecutive failures: the plugin's probe failed: socket gone", await dead.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Without_a_probe_of_its_kind_the_manifests_tcp_probe_is_asked_against_a_real_socket()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();

        // Bound but not listening: connections are refused, and no other test can take the port meanwhile.
        using var refusing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        refusing.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closed = ((IPEndPoint)refusing.LocalEndPoint!).Port;

        var ports = new Dictionary<string, int> { ["http"] = ((IPEndPoint)listener.LocalEndpoint).Port };
        IReadOnlyDictionary<string, int> Ports()
        {
            lock (ports)
            {
                return new Dictionary<string, int>(ports);
            }
        }

        var monitor = new LivenessMonitor(new UnitProbe((_, _) => ValueTask.FromResult(ProbeResult.Unsupported), Ports, new ProbeRunner(TimeProvider.System), _clock), _clock);
        var definition = new TcpProbe("http") { Interval = TimeSpan.FromSeconds(1), FailureThreshold = 2, Timeout = TimeSpan.FromSeconds(5) };

        var dead = monitor.WatchAsync(definition, CancellationToken.None);
        await TickAsync(dead, TimeSpan.FromSeconds(1), times: 3);
        Assert.False(dead.IsCompleted); // the listener accepts

        lock (ports)
        {
            ports["http"] = closed;
        }

        await TickAsync(dead, TimeSpan.FromSeconds(1), times: 2);
        Assert.Contains($"connection to port {closed} failed", await dead.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_unit_with_nothing_to_probe_is_asked_again_only_every_five_minutes_until_a_probe_appears()
    {
        // The kind has no probe at first (Unsupported), then a reloaded plugin brings one that fails.
        var script = new ProbeScript(ProbeResult.Unsupported, ProbeResult.Unsupported, ProbeResult.Unhealthy("gone"), ProbeResult.Unhealthy("gone"), ProbeResult.Unhealthy("gone"));
        var monitor = new LivenessMonitor(Probe(script.AnswerAsync), _clock);

        var dead = monitor.WatchAsync(null, CancellationToken.None);
        await TickAsync(dead, TimeSpan.FromSeconds(10), times: 1);
        Assert.Equal(1, script.Calls);

        await TickAsync(dead, TimeSpan.FromSeconds(10), times: 29); // 290 s: not asked again yet
        Assert.Equal(1, script.Calls);

        await TickAsync(dead, TimeSpan.FromSeconds(10), times: 1); // 5 minutes after the first answer
        Assert.Equal(2, script.Calls);

        await TickAsync(dead, LivenessMonitor.NothingToProbeInterval, times: 1); // the probe appears: back to every 10 s
        await TickAsync(dead, TimeSpan.FromSeconds(10), times: 2);
        Assert.Equal("3 consecutive failures: gone", await dead.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private UnitProbe Probe(Func<ProbeKind, CancellationToken, ValueTask<ProbeResult>> kindProbe) =>
        new(kindProbe, () => new Dictionary<string, int>(), new ProbeRunner(_clock), _clock);

    /// <summary>Moves the clock one interval at a time, each once the monitor waits on it again (or has ended).</summary>
    private async Task TickAsync(Task watch, TimeSpan interval, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await Eventually.TrueAsync(() => watch.IsCompleted || _clock.ScheduledTimers > 0, TimeSpan.FromSeconds(10), "the monitor to wait for its next probe");
            _clock.Advance(interval);
        }

        await Eventually.TrueAsync(() => watch.IsCompleted || _clock.ScheduledTimers > 0, TimeSpan.FromSeconds(10), "the probe to be answered");
    }
}
