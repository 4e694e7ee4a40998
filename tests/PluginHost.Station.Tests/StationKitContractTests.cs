using System.Diagnostics;
using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Testing;

namespace PluginHost.Station.Tests;

/// <summary>The equipment-driver kit for the simulated DMM: no peer, its faults stand in for one.</summary>
public sealed class SimulatedDriverContractTests : EquipmentDriverContractTests
{
    protected override string PluginFolder => Path.Combine(StationPaths.Drivers, "simulated");

    protected override string DriverName => "sim-dmm";

    protected override EquipmentEndpoint Endpoint => new("127.0.0.1", 0) { Options = new Dictionary<string, string> { ["seed"] = "7", ["rails"] = "3V3=3.30" } };

    protected override EquipmentEndpoint RefusingEndpoint => Endpoint with { Options = new Dictionary<string, string> { ["fault"] = "refuse" } };

    protected override string Query => "MEAS:VOLT:DC? 3V3";

    protected override string Write => "*CLS";

    protected override string BadCommand => "MEAS:VOLT:DC? 12V";

    protected override bool BadCommandIsQuery => true;
}

/// <summary>The equipment-driver kit for scpi-tcp, against the fake SCPI instrument on loopback TCP.</summary>
public sealed class ScpiDriverContractTests : EquipmentDriverContractTests
{
    private readonly FakeScpiInstrument _instrument = new();

    protected override string PluginFolder => Path.Combine(StationPaths.Drivers, "scpi");

    protected override string DriverName => "scpi-tcp";

    protected override EquipmentEndpoint Endpoint => new("127.0.0.1", _instrument.Port) { Timeout = TimeSpan.FromSeconds(2) };

    protected override string Query => "MEAS:VOLT?";

    protected override string Write => "VOLT 12.5";

    protected override string BadCommand => "BOGUS";

    protected override Task StopPeerAsync() => _instrument.DisposeAsync().AsTask();
}

/// <summary>The equipment-driver kit for modbus-tcp, against Debian's pymodbus server.</summary>
public sealed class ModbusDriverContractTests : EquipmentDriverContractTests
{
    private readonly int _port = StationPaths.FreePort();
    private Process? _server;

    protected override string PluginFolder => Path.Combine(StationPaths.Drivers, "modbus");

    protected override string DriverName => "modbus-tcp";

    protected override EquipmentEndpoint Endpoint => new("127.0.0.1", _port) { Timeout = TimeSpan.FromSeconds(2), Options = new Dictionary<string, string> { ["unit"] = "1" } };

    protected override string Query => "read holding 0 2";

    protected override string Write => "write register 10 1234";

    protected override string BadCommand => "read holding 500 2";

    protected override bool BadCommandIsQuery => true;

    protected override async Task StartPeerAsync()
    {
        Prerequisite.PythonWithModule("pymodbus", "python3-pymodbus");
        _server = await ModbusDriverTests.StartServerAsync(_port);
    }

    protected override Task StopPeerAsync()
    {
        ModbusDriverTests.Stop(_server);
        return Task.CompletedTask;
    }
}

/// <summary>The sequence-package kit for the test package with C# steps (tests/TestPlugins/StationSteps).</summary>
public sealed class CSharpStepsPackageContractTests : SequencePackageContractTests
{
    protected override string PackageFolder => Path.Combine(RepositoryLayout.Root, "artifacts", "test-packages", "csharp-steps");
}
