using PluginHost.Contracts.Testing;

namespace PluginHost.Station.Tests;

/// <summary>Where the built worker, the driver plugins and the sample package are; a free port for a master.</summary>
internal static class StationPaths
{
    public static string Worker { get; } = Path.Combine(RepositoryLayout.Root, "artifacts", "station-worker", "station-worker.dll");

    public static string Drivers { get; } = Path.Combine(RepositoryLayout.Root, "artifacts", "drivers");

    public static string SamplePackage { get; } = Path.Combine(RepositoryLayout.Root, "samples", "station", "pcb-power");

    public static string Dotnet { get; } = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));

    public static int FreePort() => HostProcess.FreePort();
}
