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

    [Fact]
    public void A_file_of_ninety_thousand_mistakes_reports_the_first_ones_and_how_many_more()
    {
        var text = new System.Text.StringBuilder("apiVersion: pluginhost/v1\nkind: worker\nname: big\nspec: { command: /bin/true }\n");
        for (var i = 0; i < 90_000; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"k{i:D5}: 1\n");
        }

        _dir.Write("big.yaml", text.ToString());

        var problems = UnitSetLoader.Load(_dir.Path, new TestKinds()).Problems;

        Assert.Equal(ProblemList.MaxPerFile + 1, problems.Count);
        Assert.Equal(Enumerable.Range(5, ProblemList.MaxPerFile), problems.Take(ProblemList.MaxPerFile).Select(p => p.Line));
        Assert.Contains("89,975 more problem(s) in this file from here on", problems[^1].ToString(), StringComparison.Ordinal);
        Assert.Equal(30, problems[^1].Line);
    }

    [Fact]
    public void One_mistake_reached_through_several_aliases_is_reported_once_and_problems_come_in_order()
    {
        _dir.Write("a.yaml", """
            apiVersion: pluginhost/v1
            kind: worker
            name: a
            spec: { command: /bin/true, args: [&one { k: v }, *one, *one] }
            restart: sometimes
            restart: always
            """);

        var problems = UnitSetLoader.Load(_dir.Path, new TestKinds()).Problems;

        Assert.Single(problems, p => p.Path == "spec.args[0]");
        Assert.Equal(problems.OrderBy(p => p.Line).ThenBy(p => p.Column).Select(p => (p.Line, p.Column)), problems.Select(p => (p.Line, p.Column)));
        Assert.Equal([4, 5, 6], problems.Select(p => p.Line).Distinct());
    }

    [Theory]
    [InlineData("spec:\n\tcommand: /bin/true\n", 5, 1, "found invalid YAML (While scanning a mapping, found invalid tab as indentation.)")]
    [InlineData("spec: hello\n", 4, 7, "spec: found \"hello\"; expected a mapping")]
    [InlineData("", 1, 1, "spec.command: found no \"command\"")]
    [InlineData("spec: { command: !!binary aGVsbG8= }\n", 4, 18, "spec.command: found the YAML tag !!binary, which manifests do not use")]
    [InlineData("spec: !!map { command: /bin/true, args: !custom [x] }\n", 4, 41, "spec.args: found the YAML tag !custom")]
    public void Each_mistake_is_one_problem_at_its_own_position(string tail, int line, int column, string says)
    {
        _dir.Write("u.yaml", "apiVersion: pluginhost/v1\nkind: worker\nname: u\n" + tail);

        var problem = Assert.Single(UnitSetLoader.Load(_dir.Path, new TestKinds()).Problems);

        Assert.Equal((line, column), (problem.Line, problem.Column));
        Assert.EndsWith("u.yaml", problem.File, StringComparison.Ordinal);
        Assert.Contains(says, problem.ToString(), StringComparison.Ordinal);
    }
}
