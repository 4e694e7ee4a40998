using System.Net;
using System.Net.Sockets;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Supervision.Health;
using Xunit;

namespace PluginHost.Core.Tests.Supervision.Health;

public sealed class ReadinessCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new("readiness");
    private readonly ManualTimeProvider _clock = new();
    private readonly UnitLog _log;

    public ReadinessCheckTests() => _log = new UnitLog(_dir.Combine("u.log"), LogSettings.Default);

    public void Dispose()
    {
        _log.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task With_no_probe_anywhere_a_started_process_is_ready_at_once()
    {
        var check = Check((_, _) => ValueTask.FromResult(ProbeResult.Unsupported));

        Assert.True(await check.WaitAsync(null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Polls_the_kinds_probe_until_healthy_at_most_250_ms_apart()
    {
        var script = new ProbeScript(ProbeResult.Unhealthy("booting"), ProbeResult.Unhealthy("booting"), ProbeResult.Healthy);
        var check = Check(script.AnswerAsync);

        var ready = check.WaitAsync(new TcpProbe("http") { Interval = TimeSpan.FromSeconds(5) }, CancellationToken.None);
        for (var i = 0; i < 2; i++)
        {
            await Eventually.TrueAsync(() => _clock.ScheduledTimers > 0, TimeSpan.FromSeconds(10), "the next poll to be scheduled");
            Assert.False(ready.IsCompleted);
            _clock.Advance(TimeSpan.FromMilliseconds(250));
        }

        Assert.True(await ready.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, script.Calls);
    }

    [Fact]
    public async Task A_log_line_probe_waits_for_its_line_among_the_captured_output()
    {
        var check = Check((_, _) => ValueTask.FromResult(ProbeResult.Unsupported));

        var ready = check.WaitAsync(new LogLineProbe("listening on port \\d+"), CancellationToken.None);
        _log.Append(new OutputLine(OutputStream.Stdout, "loading the model", _clock.GetUtcNow()));
        Assert.False(ready.IsCompleted);
        _log.Append(new OutputLine(OutputStream.Stderr, "listening on port 8080", _clock.GetUtcNow()));

        Assert.True(await ready.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Without_a_probe_of_its_kind_the_manifests_probe_decides_against_a_real_socket()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var ports = new Dictionary<string, int> { ["http"] = ((IPEndPoint)listener.LocalEndpoint).Port };
        var check = new ReadinessCheck(
            new UnitProbe((_, _) => ValueTask.FromResult(ProbeResult.Unsupported), () => ports, new ProbeRunner(TimeProvider.System), _clock), _log, _clock);

        Assert.True(await check.WaitAsync(new TcpProbe("http"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task The_wait_ends_when_its_caller_cancels_it()
    {
        using var cancel = new CancellationTokenSource();
        var check = Check((_, _) => ValueTask.FromResult(ProbeResult.Unhealthy("never")));

        var ready = check.WaitAsync(new TcpProbe("http"), cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ready.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private ReadinessCheck Check(Func<ProbeKind, CancellationToken, ValueTask<ProbeResult>> kindProbe) =>
        new(new UnitProbe(kindProbe, () => new Dictionary<string, int>(), new ProbeRunner(_clock), _clock), _log, _clock);
}
