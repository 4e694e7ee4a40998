namespace PluginHost.Core.Manifests;

/// <summary>Orders units so that each starts after what it follows; reports unknown names and cycles.</summary>
internal static class DependencyOrder
{
    public static IReadOnlyList<string> Compute(IReadOnlyDictionary<string, UnitManifest> units, List<ManifestProblem> problems)
    {
        foreach (var unit in units.Values)
        {
            foreach (var dependency in unit.After.Where(d => !units.ContainsKey(d)))
            {
                problems.Add(ManifestProblem.InFile(unit.File, $"after: \"{dependency}\", which is not a unit",
                    "names of units defined in this folder" + (units.Count > 0 ? ": " + string.Join(", ", units.Keys.Order(StringComparer.Ordinal)) : "")));
            }
        }

        var order = new List<string>(units.Count);
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false = visiting, true = done
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in units.Keys.Order(StringComparer.Ordinal))
        {
            Visit(name, [], units, state, order, problems, reported);
        }

        return order;
    }

    private static void Visit(string name, List<string> stack, IReadOnlyDictionary<string, UnitManifest> units,
        Dictionary<string, bool> state, List<string> order, List<ManifestProblem> problems, HashSet<string> reported)
    {
        if (state.TryGetValue(name, out var done))
        {
            if (!done)
            {
                var cycle = stack.Skip(stack.IndexOf(name)).Append(name).ToArray();
                var key = string.Join(",", cycle.Skip(1).Order(StringComparer.Ordinal));
                if (reported.Add(key))
                {
                    problems.Add(ManifestProblem.InFile(units[name].File, "a dependency cycle " + string.Join(" -> ", cycle),
                        "after: dependencies without cycles"));
                }
            }

            return;
        }

        state[name] = false;
        stack.Add(name);
        foreach (var dependency in units[name].After.Where(units.ContainsKey))
        {
            Visit(dependency, stack, units, state, order, problems, reported);
        }

        stack.RemoveAt(stack.Count - 1);
        state[name] = true;
        order.Add(name);
    }
}
