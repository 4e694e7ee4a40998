using Xunit;
using Xunit.Abstractions;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>
/// What an idle unit costs the host in managed memory: buffers are held only while output flows,
/// so a quiet unit stays small (measured ≈ 20 KB; a read buffer held while idle made it ≈ 160 KB).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class UnitFootprintTests(ITestOutputHelper output)
{
    private const int Units = 100;
    private const long MaxBytesPerIdleUnit = 64 * 1024;

    [Fact]
    public async Task An_idle_unit_costs_the_host_little_managed_memory()
    {
        await using var engine = await EngineFixture.StartAsync(recentEvents: 10);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        await engine.RunAsync(Enumerable.Range(0, Units).Select(i => UnitYaml.Bash($"idle{i:000}", "exec sleep 300")).ToArray());
        foreach (var i in Enumerable.Range(0, Units))
        {
            await engine.WaitForAsync($"idle{i:000}", s => s is { State: "ready", RssBytes: not null }, "the unit to run and be sampled");
        }

        var perUnit = (GC.GetTotalMemory(forceFullCollection: true) - before) / Units;
        output.WriteLine($"{perUnit / 1024.0:F1} KB of managed heap per idle unit");
        Assert.True(perUnit < MaxBytesPerIdleUnit, $"{perUnit / 1024.0:F1} KB per idle unit");
    }
}
