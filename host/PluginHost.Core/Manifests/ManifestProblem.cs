using PluginHost.Contracts.Specs;

namespace PluginHost.Core.Manifests;

/// <summary>
/// One thing wrong with a manifest, formatted the way compilers do so editors can jump to it:
/// <c>manifests/web.yaml:4:3: restart.policy: found "sometimes"; expected one of always, on-failure, never</c>.
/// </summary>
internal sealed record ManifestProblem(string File, int Line, int Column, string Path, string Found, string Expected)
{
    public static ManifestProblem From(SpecProblem problem) =>
        new(problem.Location.File, problem.Location.Line, problem.Location.Column, problem.Path, problem.Found, problem.Expected);

    public static ManifestProblem InFile(string file, string found, string expected) => new(file, 0, 0, "", found, expected);

    public override string ToString()
    {
        var where = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        var path = Path.Length > 0 ? $" {Path}:" : "";
        return $"{where}:{path} found {Found}; expected {Expected}";
    }
}
