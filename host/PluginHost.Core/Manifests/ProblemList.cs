using System.Globalization;

namespace PluginHost.Core.Manifests;

/// <summary>
/// The problems of one file as they are reported: each once (an alias used nine times is one
/// mistake, not nine), in order of position, and at most <see cref="MaxPerFile"/> of them with a
/// last line saying how many more — a file of 90,000 unknown keys must not become an 18 MB event,
/// log line and journal row on every save.
/// </summary>
internal static class ProblemList
{
    public const int MaxPerFile = 25;

    public static IReadOnlyList<ManifestProblem> OfOneFile(IEnumerable<ManifestProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var distinct = problems.Distinct().OrderBy(p => p.Line).ThenBy(p => p.Column).ThenBy(p => p.Path, StringComparer.Ordinal).ToList();
        if (distinct.Count <= MaxPerFile)
        {
            return distinct;
        }

        var first = distinct[MaxPerFile];
        var more = (distinct.Count - MaxPerFile).ToString("N0", CultureInfo.InvariantCulture);
        return [.. distinct.Take(MaxPerFile), new ManifestProblem(first.File, first.Line, first.Column, "",
            $"{more} more problem(s) in this file from here on (the first {MaxPerFile} are listed)", "fix these, then validate again")];
    }
}
