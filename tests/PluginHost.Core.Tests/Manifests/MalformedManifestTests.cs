using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

/// <summary>Whatever an editor leaves in a file, loading returns a result: a unit or problems, never an exception.</summary>
public sealed class MalformedManifestTests
{
    private const string Valid = """
        apiVersion: pluginhost/v1
        kind: worker
        name: api
        after: [db]
        restart: { policy: always, backoff: { initial: 1s, max: 30s }, limit: { restarts: 3, window: 10s } }
        health:
          readiness: { http: { path: /health, port: http }, interval: 1s }
        ports: { http: 8080 }
        env: { A: b, C: { value: d, public: true } }
        spec:
          command: /bin/echo
          args: ["x", 'y', z]
        """;

    private static readonly string[] Noise = [":", "-", "[", "]", "{", "}", "'", "\"", "#", "&a", "*a", "\n", " ", "  ", "\t", "|", ">", "!", "%", "@", "`", ",", "?", "~", "null", "\u00e9", "\0", "---", "\uFEFF"];

    [Fact]
    public void Mutated_manifests_never_throw_and_always_explain_themselves()
    {
        var edit = from position in Gen.Choose(0, Valid.Length)
                   from noise in Gen.Elements(Noise)
                   from operation in Gen.Choose(0, 3)
                   select (position, noise, operation);
        var mutation = edit.ListOf()
            .Select(edits => edits.Aggregate(Valid, Apply));

        Prop.ForAll(mutation.ToArbitrary(), Holds).Check(Config.QuickThrowOnFailure.WithMaxTest(1500));
    }

    [Fact]
    public void Arbitrary_text_never_throws()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), text => Holds(text ?? "")).Check(Config.QuickThrowOnFailure.WithMaxTest(1500));
    }

    [Theory]
    [InlineData("\t")]
    [InlineData(":")]
    [InlineData("- - -")]
    [InlineData("[")]
    [InlineData("{a: 1, a: 2}")]
    [InlineData("a: &x [*x]")]
    [InlineData("!!binary YWJj")]
    [InlineData("%YAML 1.1\n---\na: 1")]
    [InlineData("apiVersion: pluginhost/v1\nkind: worker\nname: x\nspec: [1, 2]")]
    [InlineData("apiVersion: pluginhost/v1\nkind: worker\nname: x\nports: { http: -1 }\nspec: { command: a }")]
    [InlineData("apiVersion: pluginhost/v1\nkind: worker\nname: x\nrestart: { backoff: 5 }\nspec: { command: a }")]
    [InlineData("apiVersion: pluginhost/v1\nkind: worker\nname: x\nhealth: { readiness: { http: /, tcp: x } }\nspec: { command: a }")]
    [InlineData("apiVersion: pluginhost/v1\nkind: worker\nname: x\nhealth: { readiness: { log: { pattern: '(' } } }\nspec: { command: a }")]
    [InlineData("apiVersion: pluginhost/v1\nkind: worker\nname: x\nenv: { 'A=B': c, D: [1] }\nspec: { command: a }")]
    public void A_corpus_of_broken_manifests_is_reported_not_thrown(string yaml)
    {
        Assert.True(Holds(yaml));
        Assert.NotEmpty(ManifestText.Read(yaml).Problems);
    }

    private static bool Holds(string yaml)
    {
        var (unit, problems) = ManifestText.Read(yaml);
        // YAML breaks lines at \r, \n, NEL, LS and PS: an upper bound for the line a problem can be on.
        var lines = 1 + yaml.Count(c => c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029');
        if (unit is null == (problems.Count == 0))
        {
            throw new InvalidOperationException($"expected a unit or problems, not both or neither, for:\n{yaml}");
        }

        foreach (var problem in problems)
        {
            if (problem.Line < 0 || problem.Line > lines + 1 || problem.Found.Length == 0 || problem.Expected.Length == 0)
            {
                throw new InvalidOperationException($"unhelpful problem {problem} for:\n{yaml}");
            }
        }

        return true;
    }

    private static string Apply(string text, (int Position, string Noise, int Operation) edit)
    {
        var at = Math.Min(edit.Position, text.Length);
        return edit.Operation switch
        {
            0 => text.Insert(at, edit.Noise),
            1 when at < text.Length => text.Remove(at, 1),
            2 when at < text.Length => text.Remove(at, 1).Insert(at, edit.Noise),
            _ => DuplicateLine(text, at),
        };
    }

    private static string DuplicateLine(string text, int at)
    {
        var start = text.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        var end = text.IndexOf('\n', Math.Max(at, start)); // at 0 on a leading newline, the line starts after it
        var line = end < 0 ? text[start..] : text[start..end];
        return text.Insert(start, line + "\n");
    }
}
