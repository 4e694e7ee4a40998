using System.Reflection;
#if (driver)
using PluginHost.Contracts.Equipment;
#endif
using PluginHost.Contracts.Testing;

namespace Acme.Sample.Tests;

/// <summary>Where the build put the plugin (the test project's AssemblyMetadata "BuiltPlugin").</summary>
internal static class Built
{
    public static string Folder { get; } = typeof(Built).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BuiltPlugin").Value!;
}

#if (unitKind)
/// <summary>The promises every plugin keeps: loading, isolation, validation, classification, unload.</summary>
public sealed class AcmeSamplePluginContractTests : PluginContractTests
{
    protected override string PluginFolder => Built.Folder;

    protected override string Kind => "acme-sample";

#if (sidecar)
    protected override string ValidSpec => """
        command: python3
        args: [-m, http.server, "{port:http}", --bind, 127.0.0.1]
        port: 8080
        healthPath: /
        env: { PYTHONUNBUFFERED: "1" }
        """;

    protected override string MalformedSpec => """
        args: { a: 1 }
        port: 70000
        healthPath: health
        comand: python3
        """;
#else
    protected override string ValidSpec => """
        command: /bin/sh
        args: [-i]
        cols: 100
        rows: 30
        env: { TERM: xterm-256color }
        """;

    protected override string MalformedSpec => """
        args: { a: 1 }
        cols: 5
        rowz: 30
        """;
#endif
}

/// <summary>The promises of running units, in the real pluginhost host: start/stop, crash and restart, coded failures, reload and host restart.</summary>
public sealed class AcmeSampleUnitContractTests : UnitContractTests
{
    protected override string PluginFolder => Built.Folder;

    protected override string Kind => "acme-sample";

#if (sidecar)
    protected override string RunningSpec => $"""
        command: python3
        args: [-m, http.server, "{"{port:http}"}", --bind, 127.0.0.1]
        port: {HostProcess.FreePort()}
        """;
#else
    protected override string RunningSpec => "command: /bin/sh";

    /// <summary>The terminal's master is the host's: a host restart ends the session (docs/pty-session.md).</summary>
    protected override bool KeptAcrossHostRestart => false;
#endif

    protected override string FailingSpec => "command: /nonexistent/program";
}
#elif (driver)
/// <summary>The promises every equipment driver keeps, against a fake instrument that speaks the driver's protocol.</summary>
public sealed class AcmeSampleDriverContractTests : EquipmentDriverContractTests
{
    private readonly FakeInstrument _instrument = new();

    protected override string PluginFolder => Built.Folder;

    protected override string DriverName => "acme-sample";

    protected override EquipmentEndpoint Endpoint => new("127.0.0.1", _instrument.Port) { Timeout = TimeSpan.FromSeconds(2) };

    protected override string Query => "MEAS?";

    protected override string Write => "VOLT 5";

    protected override string BadCommand => "BOGUS?";

    protected override bool BadCommandIsQuery => true;

    protected override Task StopPeerAsync() => _instrument.DisposeAsync().AsTask();
}
#else
/// <summary>The promises of a sequence package: every step sequence.yaml names is a [Step] of the assembly, with a step's signature; the assembly unloads.</summary>
public sealed class AcmeSamplePackageContractTests : SequencePackageContractTests
{
    protected override string PackageFolder => Built.Folder;
}
#endif
