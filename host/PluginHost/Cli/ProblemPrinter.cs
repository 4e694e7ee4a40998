using PluginHost.Core.Manifests;

namespace PluginHost.Cli;

/// <summary>Prints manifest problems one per line, compiler style, so editors and CI can jump to them.</summary>
internal static class ProblemPrinter
{
    public static void Print(TextWriter output, IReadOnlyList<ManifestProblem> problems)
    {
        foreach (var problem in problems)
        {
            output.WriteLine($"{problem}");
        }

        output.WriteLine(problems.Count == 1 ? "1 problem." : $"{problems.Count} problems.");
    }
}
