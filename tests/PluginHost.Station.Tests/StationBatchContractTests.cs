using PluginHost.Contracts.Testing;

namespace PluginHost.Station.Tests;

/// <summary>The promises every plugin keeps (the contract test kit), for station-batch.</summary>
public sealed class StationBatchContractTests : PluginContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("station-batch");

    protected override string Kind => "station-batch";

    protected override string ValidSpec => """
        batch: line1
        name: Line 1
        sequence: ./pcb-power
        heartbeat: 500ms
        hardware:
          psu: { driver: sim-psu, options: { seed: "7" } }
          dmm: { driver: sim-dmm, address: 127.0.0.1, port: 0 }
        parameters: { dut_serial: SN-1 }
        """;

    protected override string MalformedSpec => """
        batch: "line 1!"
        heartbeat: 1ms
        hardware:
          psu: { drive: sim-psu }
          dmm: [x]
        parameters: { a: [1] }
        colour: red
        """;
}

/// <summary>The contract test kit for the plugin's second kind, station-sync.</summary>
public sealed class StationSyncContractTests : PluginContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("station-batch");

    protected override string Kind => "station-sync";

    protected override string ValidSpec => """
        target: http
        url: http://127.0.0.1:9
        interval: 30s
        timeout: 5s
        batchSize: 50
        """;

    protected override string MalformedSpec => """
        target: ftp
        url: not a url
        interval: 1ms
        batchSize: 0
        colour: red
        """;
}

/// <summary>The promises of running units, for station-batch: a real worker against the simulated instruments.</summary>
public sealed class StationBatchUnitContractTests : UnitContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("station-batch");

    protected override string Kind => "station-batch";

    protected override string RunningSpec => Batch(Path.GetDirectoryName(StationPaths.Worker)!);

    protected override string FailingSpec => Batch("/nonexistent/station-worker");

    protected override TimeSpan StopGrace => TimeSpan.FromSeconds(30);

    private static string Batch(string worker) => $$"""
        sequence: {{StationPaths.SamplePackage}}
        drivers: {{StationPaths.Drivers}}
        worker: {{worker}}
        heartbeat: 300ms
        hardware:
          psu: { driver: sim-psu, options: { seed: "7" } }
          dmm: { driver: sim-dmm, options: { seed: "7" } }
        """;
}
