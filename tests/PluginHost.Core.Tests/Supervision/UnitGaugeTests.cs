using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>A kind's own gauges (IUnitDriver.MeasureAsync) on the unit's status, asked at the telemetry interval.</summary>
public sealed class UnitGaugeTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task A_running_units_gauges_are_on_its_status_bad_names_left_out_and_gone_once_it_stops()
    {
        await _engine.RunAsync("apiVersion: pluginhost/v1\nkind: sample\nname: gauged\nspec: { message: hi }\n");
        var ready = await _engine.WaitForStateAsync("gauged", "ready");

        var measured = await _engine.WaitForAsync("gauged", s => s.Gauges is not null, "the gauges");
        _engine.Unit("gauged").Stop();
        var stopped = await _engine.WaitForStateAsync("gauged", "stopped");

        // rss_bytes is the host's own metric name and "Not a name" is none: both left out (and logged once).
        Assert.Equal(new Dictionary<string, double> { ["sample_pid"] = ready.Pid!.Value }, measured.Gauges);
        Assert.Equal("The pid, as a gauge.", _engine.Unit("gauged").GaugeHelp["sample_pid"]);
        Assert.Null(stopped.Gauges);
    }
}
