using System.Globalization;

namespace PluginHost.Contracts.Specs;

/// <summary>
/// Reads a mapping field by field, collecting every problem instead of stopping at the first, and
/// remembers which keys were read so that <see cref="RejectUnknownKeys"/> can report typos.
/// Used for the host's own manifest sections and offered to plugins for their <c>spec</c>.
/// </summary>
public sealed class SpecReader
{
    private readonly List<SpecProblem> _problems;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public SpecReader(SpecMapping mapping)
        : this(mapping, [])
    {
    }

    private SpecReader(SpecMapping mapping, List<SpecProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        Mapping = mapping;
        _problems = problems;
    }

    public SpecMapping Mapping { get; }

    public IReadOnlyList<SpecProblem> Problems => _problems;

    public bool HasProblems => _problems.Count > 0;

    /// <summary>Reads a node as a mapping; a reader for the nested mapping shares this reader's problems.</summary>
    public static SpecReader? ForNode(SpecNode node, List<SpecProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(problems);
        if (node is SpecMapping mapping)
        {
            return new SpecReader(mapping, problems);
        }

        problems.Add(SpecProblem.At(node, node.Describe(), "a mapping"));
        return null;
    }

    public void Report(SpecNode node, string found, string expected) => _problems.Add(SpecProblem.At(node, found, expected));

    public void Report(SpecProblem problem) => _problems.Add(problem);

    /// <summary>Declares a key as known without reading it (read elsewhere, or reserved).</summary>
    public void Allow(params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _known.UnionWith(keys);
    }

    public SpecNode? Node(string key)
    {
        _known.Add(key);
        return Mapping[key];
    }

    public bool Has(string key) => Node(key) is not null and not SpecScalar { Value: null };

    public string? String(string key)
    {
        switch (Node(key))
        {
            case null or SpecScalar { Value: null }:
                return null;
            case SpecScalar scalar:
                return scalar.Value;
            case var other:
                Report(other, other.Describe(), "text");
                return null;
        }
    }

    public string RequiredString(string key)
    {
        var value = String(key);
        if (value is null && Mapping[key] is null or SpecScalar { Value: null })
        {
            ReportMissing(key, "text");
        }
        else if (value is not null && value.Length == 0)
        {
            Report(Mapping[key]!, "an empty string", "non-empty text");
        }

        return value ?? "";
    }

    public int? Int(string key, int min = int.MinValue, int max = int.MaxValue)
    {
        var node = Node(key);
        if (node is null or SpecScalar { Value: null })
        {
            return null;
        }

        var range = min == int.MinValue && max == int.MaxValue ? "an integer" : $"an integer from {min} to {max}";
        if (node is SpecScalar { Quoted: false } scalar
            && int.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            if (value >= min && value <= max)
            {
                return value;
            }

            Report(node, value.ToString(CultureInfo.InvariantCulture), range);
            return null;
        }

        Report(node, node.Describe(), range);
        return null;
    }

    public double? Number(string key, double min = double.MinValue, double max = double.MaxValue)
    {
        var node = Node(key);
        if (node is null or SpecScalar { Value: null })
        {
            return null;
        }

        if (node is SpecScalar { Quoted: false } scalar
            && double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && value >= min && value <= max && double.IsFinite(value))
        {
            return value;
        }

        Report(node, node.Describe(), $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        return null;
    }

    public bool? Bool(string key)
    {
        var node = Node(key);
        switch (node)
        {
            case null or SpecScalar { Value: null }:
                return null;
            case SpecScalar { Quoted: false, Value: "true" or "True" or "TRUE" or "yes" or "on" }:
                return true;
            case SpecScalar { Quoted: false, Value: "false" or "False" or "FALSE" or "no" or "off" }:
                return false;
            default:
                Report(node, node.Describe(), "true or false");
                return null;
        }
    }

    public TimeSpan? Duration(string key, TimeSpan? min = null)
    {
        var node = Node(key);
        if (node is null or SpecScalar { Value: null })
        {
            return null;
        }

        if (node is SpecScalar scalar && Specs.Duration.TryParse(scalar.Value, out var value))
        {
            if (min is null || value >= min)
            {
                return value;
            }

            Report(node, node.Describe(), $"{Specs.Duration.Expected}, at least {Specs.Duration.Format(min.Value)}");
            return null;
        }

        Report(node, node.Describe(), Specs.Duration.Expected);
        return null;
    }

    /// <summary>Reads one of a fixed set of words (case-sensitive, as written in docs).</summary>
    public string? OneOf(string key, params string[] allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var value = String(key);
        if (value is null || allowed.Contains(value, StringComparer.Ordinal))
        {
            return value;
        }

        var hint = Suggest(value, allowed);
        Report(Mapping[key]!, $"\"{value}\"" + (hint is null ? "" : $" (did you mean \"{hint}\"?)"), "one of " + string.Join(", ", allowed));
        return null;
    }

    /// <summary>A list of strings; a single scalar is accepted as a one-element list.</summary>
    public IReadOnlyList<string> StringList(string key)
    {
        var node = Node(key);
        switch (node)
        {
            case null or SpecScalar { Value: null }:
                return [];
            case SpecScalar scalar:
                return [scalar.Value!];
            case SpecSequence sequence:
                var items = new List<string>(sequence.Items.Count);
                foreach (var item in sequence.Items)
                {
                    if (item is SpecScalar { Value: not null } s)
                    {
                        items.Add(s.Value);
                    }
                    else
                    {
                        Report(item, item.Describe(), "text");
                    }
                }

                return items;
            default:
                Report(node, node.Describe(), "a list of text");
                return [];
        }
    }

    /// <summary>A mapping of text to text, e.g. environment variables.</summary>
    public IReadOnlyDictionary<string, string> StringMap(string key)
    {
        var node = Node(key);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (node)
        {
            case null or SpecScalar { Value: null }:
                return map;
            case SpecMapping mapping:
                foreach (var entry in mapping.Entries)
                {
                    if (entry.Value is SpecScalar scalar)
                    {
                        map[entry.Key] = scalar.Value ?? "";
                    }
                    else
                    {
                        Report(entry.Value, entry.Value.Describe(), "text");
                    }
                }

                return map;
            default:
                Report(node, node.Describe(), "a mapping of names to text");
                return map;
        }
    }

    /// <summary>A nested mapping, read with a reader that shares this one's problem list.</summary>
    public SpecReader? Section(string key)
    {
        var node = Node(key);
        return node is null or SpecScalar { Value: null } ? null : ForNode(node, _problems);
    }

    public void ReportMissing(string key, string expected)
    {
        _known.Add(key);
        _problems.Add(new SpecProblem(Join(Mapping.Path, key), Mapping.Location, $"no \"{key}\"", expected));
    }

    /// <summary>Reports every key that no read or <see cref="Allow"/> declared, with a suggestion.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var entry in Mapping.Entries.Where(e => !_known.Contains(e.Key)))
        {
            var hint = Suggest(entry.Key, _known);
            var found = $"unknown key \"{entry.Key}\"" + (hint is null ? "" : $" (did you mean \"{hint}\"?)");
            _problems.Add(new SpecProblem(Join(Mapping.Path, entry.Key), entry.KeyLocation, found,
                "one of " + string.Join(", ", _known.Order(StringComparer.Ordinal))));
        }
    }

    public static string Join(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    /// <summary>The closest candidate by edit distance, when it is close enough to be a typo.</summary>
    public static string? Suggest(string value, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(value.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return best is not null && bestDistance <= Math.Max(1, best.Length / 3) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
