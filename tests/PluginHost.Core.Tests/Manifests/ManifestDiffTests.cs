using PluginHost.Core.Manifests;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

public sealed class ManifestDiffTests
{
    private static UnitManifest Unit(string name, string command) => ManifestText.Valid($$"""
        apiVersion: pluginhost/v1
        kind: worker
        name: {{name}}
        spec: { command: {{command}} }
        """);

    private static UnitSet Set(params UnitManifest[] units) => new(units.ToDictionary(u => u.Name, StringComparer.Ordinal));

    [Fact]
    public void Added_removed_and_changed_units_are_told_apart_and_untouched_ones_are_left_out()
    {
        var before = Set(Unit("keep", "/bin/a"), Unit("change", "/bin/a"), Unit("remove", "/bin/a"));
        var after = Set(Unit("keep", "/bin/a"), Unit("change", "/bin/b"), Unit("add", "/bin/a"));

        var diff = ManifestDiff.Between(before, after);

        Assert.Equal(["add"], diff.Added.Select(u => u.Name));
        Assert.Equal(["remove"], diff.Removed.Select(u => u.Name));
        Assert.Equal(["change"], diff.Changed.Select(u => u.Name));
        Assert.Equal("/bin/b", ((PluginHost.Contracts.Specs.SpecScalar)diff.Changed[0].Spec["command"]!).Value);
    }

    [Fact]
    public void The_same_set_is_an_empty_diff()
    {
        Assert.True(ManifestDiff.Between(Set(Unit("a", "/bin/a")), Set(Unit("a", "/bin/a"))).IsEmpty);
    }
}
