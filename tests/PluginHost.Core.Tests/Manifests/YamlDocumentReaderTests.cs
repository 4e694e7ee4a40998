using PluginHost.Contracts.Specs;
using PluginHost.Core.Manifests;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

public sealed class YamlDocumentReaderTests
{
    [Fact]
    public void Positions_are_one_based_lines_and_columns_of_each_value()
    {
        var (root, problems) = YamlDocumentReader.Read("a: 1\nb:\n  c: [x, y]\n", "f.yaml");

        Assert.Empty(problems);
        var mapping = Assert.IsType<SpecMapping>(root);
        Assert.Equal(new SourceLocation("f.yaml", 1, 4), mapping["a"]!.Location);
        var list = Assert.IsType<SpecSequence>(((SpecMapping)mapping["b"]!)["c"]);
        Assert.Equal("b.c[1]", list.Items[1].Path);
        Assert.Equal(new SourceLocation("f.yaml", 3, 10), list.Items[1].Location);
    }

    [Fact]
    public void A_duplicate_key_is_a_problem_not_an_exception()
    {
        var (_, problems) = YamlDocumentReader.Read("a: 1\nb: 2\na: 3\n", "f.yaml");

        var problem = Assert.Single(problems);
        Assert.Equal((3, 1, "a"), (problem.Line, problem.Column, problem.Path));
        Assert.Contains("duplicate key", problem.Found, StringComparison.Ordinal);
    }

    [Fact]
    public void A_syntax_error_reports_where_it_is_without_the_parser_noise()
    {
        var (root, problems) = YamlDocumentReader.Read("a: 1\nb: [unclosed\nc: 2\n", "f.yaml");

        Assert.Null(root);
        var problem = Assert.Single(problems);
        Assert.True(problem.Line >= 2, problem.ToString());
        Assert.StartsWith("invalid YAML (", problem.Found, StringComparison.Ordinal);
        Assert.DoesNotContain("Idx:", problem.Found, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "an empty file")]
    [InlineData("a: 1\n---\nb: 2\n", "a second YAML document (---)")]
    [InlineData("? [a, b]\n: 1\n", "a list used as a key")]
    public void Shapes_a_manifest_cannot_have_are_reported(string yaml, string found)
    {
        var (_, problems) = YamlDocumentReader.Read(yaml, "f.yaml");

        Assert.Contains(problems, p => p.Found == found);
    }

    [Fact]
    public void Quoted_scalars_stay_text_and_plain_nulls_are_null()
    {
        var (root, _) = YamlDocumentReader.Read("a: 'true'\nb: ~\nc:\nd: \"\"\n", "f.yaml");
        var mapping = Assert.IsType<SpecMapping>(root);

        Assert.True(((SpecScalar)mapping["a"]!).Quoted);
        Assert.Null(((SpecScalar)mapping["b"]!).Value);
        Assert.Null(((SpecScalar)mapping["c"]!).Value);
        Assert.Equal("", ((SpecScalar)mapping["d"]!).Value);
    }

    [Fact]
    public void Aliases_resolve_to_their_anchor_and_unknown_aliases_are_reported()
    {
        var (root, problems) = YamlDocumentReader.Read("base: &b { x: 1 }\ncopy: *b\n", "f.yaml");
        var (_, unknown) = YamlDocumentReader.Read("copy: *nothing\n", "f.yaml");

        Assert.Empty(problems);
        Assert.Same(((SpecMapping)root!)["base"], ((SpecMapping)root!)["copy"]);
        Assert.Contains("unknown alias", Assert.Single(unknown).Found, StringComparison.Ordinal);
    }

    [Fact]
    public void Absurd_nesting_is_refused_instead_of_overflowing_the_stack()
    {
        var yaml = new string('[', 5000) + new string(']', 5000);

        var (_, problems) = YamlDocumentReader.Read(yaml, "f.yaml");

        Assert.Contains("nesting deeper than", Assert.Single(problems).Found, StringComparison.Ordinal);
    }
}
