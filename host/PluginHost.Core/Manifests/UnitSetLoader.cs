namespace PluginHost.Core.Manifests;

/// <summary>
/// Loads every unit manifest of a folder and checks them together (unique names, known
/// dependencies, no dependency cycle). It never throws on bad input: it returns every problem.
/// </summary>
internal static class UnitSetLoader
{
    public static UnitSetResult Load(string manifestsDirectory, IUnitKindResolver kinds)
    {
        ArgumentNullException.ThrowIfNull(manifestsDirectory);
        ArgumentNullException.ThrowIfNull(kinds);
        if (!Directory.Exists(manifestsDirectory))
        {
            return new UnitSetResult(null, [ManifestProblem.InFile(ManifestPaths.Display(manifestsDirectory), "no such folder", "a folder of YAML manifests")]);
        }

        string[] files;
        try
        {
            files = Directory.GetFiles(manifestsDirectory).Where(ManifestPaths.IsUnitFile).Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new UnitSetResult(null, [ManifestProblem.InFile(ManifestPaths.Display(manifestsDirectory), $"a folder that cannot be listed ({ex.Message})", "a readable folder")]);
        }

        var problems = new List<ManifestProblem>();
        var units = new Dictionary<string, UnitManifest>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var display = ManifestPaths.Display(file);
            var (root, parseProblems) = YamlDocumentReader.ReadFile(file, display);
            var (unit, unitProblems) = UnitManifestReader.Read(root, display, kinds);
            problems.AddRange(ProblemList.OfOneFile(parseProblems.Concat(unitProblems)));
            if (unit is null)
            {
                continue;
            }

            if (units.TryGetValue(unit.Name, out var first))
            {
                problems.Add(ManifestProblem.InFile(display, $"a second unit named \"{unit.Name}\" (also in {first.File})", "unique unit names"));
                continue;
            }

            units.Add(unit.Name, unit);
        }

        var order = DependencyOrder.Compute(units, problems);
        return problems.Count > 0
            ? new UnitSetResult(null, problems)
            : new UnitSetResult(new UnitSet(units) { StartOrder = order }, []);
    }
}
