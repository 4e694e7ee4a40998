using PluginHost.Contracts.Testing;
using System.Text.Json;
using Xunit;

namespace PluginHost.Tests;

/// <summary>
/// The host's memory comes from how the runtime is set up as much as from its code. These settings
/// were each measured (docs/benchmarks.md, "Memory, honestly"); changing one is a decision to measure
/// again, not an accident to let through.
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_host_runs_workstation_non_concurrent_GC_with_a_4_MB_gen0_budget_and_no_tiered_PGO()
    {
        var path = Path.ChangeExtension(HostProcess.Executable, ".runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.False(properties.GetProperty("System.GC.Concurrent").GetBoolean());
        Assert.Equal(4 * 1024 * 1024, properties.GetProperty("System.GC.Gen0MaxBudget").GetInt32());
        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }
}
