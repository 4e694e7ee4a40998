using PluginHost.Contracts.Testing;
using PluginHost.Core.Manifests;
using PluginHost.Core.Tests.TestDoubles;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

public sealed class UnitSetLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private void Unit(string file, string name, string after = "[]") => _dir.Write(file, $"""
        apiVersion: pluginhost/v1
        kind: worker
        name: {name}
        after: {after}
        spec: {"{"} command: /bin/true {"}"}
        """);

    [Fact]
    public void Units_start_after_what_they_follow()
    {
        Unit("web.yaml", "web", "[api]");
        Unit("api.yaml", "api", "[db]");
        Unit("db.yaml", "db");
        _dir.Write("host.yaml", "apiVersion: pluginhost/v1\n");
        _dir.Write("notes.txt", "not a manifest");

        var result = UnitSetLoader.Load(_dir.Path, new TestKinds());

        Assert.True(result.Ok, string.Join("\n", result.Problems));
        Assert.Equal(["db", "api", "web"], result.Units!.StartOrder);
    }

    [Fact]
    public void A_dependency_cycle_is_reported_naming_the_cycle()
    {
        Unit("a.yaml", "a", "[b]");
        Unit("b.yaml", "b", "[c]");
        Unit("c.yaml", "c", "[a]");

        var result = UnitSetLoader.Load(_dir.Path, new TestKinds());

        Assert.False(result.Ok);
        var problem = Assert.Single(result.Problems);
        Assert.Equal("a dependency cycle a -> b -> c -> a", problem.Found);
    }

    [Fact]
    public void Problems_from_every_file_are_reported_together_and_nothing_is_half_loaded()
    {
        Unit("good.yaml", "good");
        Unit("other.yaml", "other", "[missing]");
        _dir.Write("bad.yaml", "apiVersion: pluginhost/v1\nkind: worker\nname: bad\nspec: { comand: x }\n");
        Unit("dup.yaml", "good");
        _dir.Write("broken.yaml", "name: [\n");

        var result = UnitSetLoader.Load(_dir.Path, new TestKinds());

        Assert.Null(result.Units);
        Assert.Contains(result.Problems, p => p.File.EndsWith("bad.yaml", StringComparison.Ordinal) && p.Path == "spec.comand");
        Assert.Contains(result.Problems, p => p.File.EndsWith("broken.yaml", StringComparison.Ordinal) && p.Found.StartsWith("invalid YAML", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.Found.Contains("a second unit named \"good\"", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.Found.Contains("after: \"missing\"", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_folder_is_a_problem()
    {
        var result = UnitSetLoader.Load(_dir.Combine("nope"), new TestKinds());

        Assert.Equal("no such folder", Assert.Single(result.Problems).Found);
    }
}
