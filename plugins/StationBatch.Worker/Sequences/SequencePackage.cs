using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PluginHost.Station.Worker.Sequences;

/// <summary>
/// Reads a sequence package, a folder holding <c>sequence.yaml</c> (docs/station.md "Sequence
/// packages"), and reports every problem at once with its file:line:column. Read again at each
/// START_SEQUENCE, so an edited package is taken up by the next run.
/// </summary>
internal static class SequencePackage
{
    public const string FileName = "sequence.yaml";
    private static readonly string[] Groups = ["setup", "main", "teardown"];
    private static readonly string[] ValidatorNames = ["in_range", "equals", "regex", "within_percent"];

    public static (Sequence? Sequence, IReadOnlyList<string> Problems) Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return (null, [$"{path}: no {FileName} in the sequence package folder"]);
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException ex)
        {
            return (null, [$"{path}:{ex.Start.Line}:{ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}"]);
        }

        var problems = new Problems(path);
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return (null, [$"{path}:1:1: a sequence package is one YAML mapping (name, version, parameters, hardware, setup, main, teardown)"]);
        }

        problems.Unknown(root, ["name", "version", "description", "assembly", "parameters", "hardware", "setup", "main", "teardown"]);
        var name = problems.RequiredString(root, "name");
        var version = problems.String(root, "version") ?? "0.0.0";
        var assembly = problems.String(root, "assembly") is { } relative ? Path.GetFullPath(Path.Combine(folder, relative)) : null;
        if (assembly is not null && !File.Exists(assembly))
        {
            problems.At(Child(root, "assembly"), $"no assembly at {assembly} (build the package's steps first)");
        }
        var parameters = ReadParameters(root, problems);
        var slots = ReadSlots(root, problems);
        var groups = Groups.ToDictionary(g => g, g => ReadSteps(root, g, slots, parameters, problems), StringComparer.Ordinal);
        if (groups["main"].Count == 0 && problems.Count == 0)
        {
            problems.At(root, "\"main\" has no step: a sequence runs at least one");
        }

        return problems.Count > 0
            ? (null, problems.List)
            : (new Sequence(name, version, Path.GetFullPath(folder), assembly, parameters, slots, groups["setup"], groups["main"], groups["teardown"]), []);
    }

    private static List<SequenceParameter> ReadParameters(YamlMappingNode root, Problems problems)
    {
        var list = new List<SequenceParameter>();
        if (problems.Mapping(root, "parameters") is not { } parameters)
        {
            return list;
        }

        foreach (var (key, value) in parameters.Children)
        {
            var name = ((YamlScalarNode)key).Value ?? "";
            if (value is not YamlMappingNode p)
            {
                problems.At(value, $"parameter \"{name}\" is a mapping (type, default, min, max, units)");
                continue;
            }

            problems.Unknown(p, ["type", "default", "min", "max", "units", "description"]);
            var typeName = problems.String(p, "type") ?? "string";
            if (!Enum.TryParse<ParameterType>(typeName, ignoreCase: true, out var type))
            {
                problems.At(Child(p, "type"), $"parameter type \"{typeName}\" is one of string, number, integer, boolean");
            }

            list.Add(new SequenceParameter(name, type, problems.String(p, "default"), problems.Number(p, "min"), problems.Number(p, "max"), problems.String(p, "units")));
        }

        return list;
    }

    private static List<string> ReadSlots(YamlMappingNode root, Problems problems)
    {
        if (problems.Mapping(root, "hardware") is not { } hardware)
        {
            return [];
        }

        return [.. hardware.Children.Keys.Select(k => ((YamlScalarNode)k).Value ?? "")];
    }

    private static List<Step> ReadSteps(YamlMappingNode root, string group, IReadOnlyList<string> slots, IReadOnlyList<SequenceParameter> parameters, Problems problems)
    {
        var steps = new List<Step>();
        if (!root.Children.TryGetValue(new YamlScalarNode(group), out var node))
        {
            return steps;
        }

        if (node is not YamlSequenceNode items)
        {
            problems.At(node, $"\"{group}\" is a list of steps");
            return steps;
        }

        foreach (var item in items)
        {
            if (item is not YamlMappingNode s)
            {
                problems.At(item, "a step is a mapping with a name and one of write, query, measure, wait, code");
                continue;
            }

            problems.Unknown(s, ["name", "write", "query", "measure", "wait", "code", "repeat", "onFail", "timeout", "description"]);
            var name = problems.RequiredString(s, "name");
            var actions = new[] { "write", "query", "measure", "wait", "code" }.Where(a => s.Children.ContainsKey(new YamlScalarNode(a))).ToArray();
            if (actions.Length != 1)
            {
                problems.At(s, $"step \"{name}\" has exactly one of write, query, measure, wait, code (it has {(actions.Length == 0 ? "none" : string.Join(", ", actions))})");
                continue;
            }

            var action = Enum.Parse<StepAction>(actions[0], ignoreCase: true);
            string? slot = null, command = null;
            Measurement? measurement = null;
            var duration = TimeSpan.Zero;
            if (action == StepAction.Wait)
            {
                duration = problems.Duration(s, "wait") ?? TimeSpan.Zero;
            }
            else if (action == StepAction.Code && problems.Mapping(s, "code") is { } code)
            {
                problems.Unknown(code, ["step", "name", "units", "validator"]);
                command = problems.RequiredString(code, "step");
                if (root.Children.ContainsKey(new YamlScalarNode("assembly")) is false)
                {
                    problems.At(code, $"step \"{name}\" runs C# code, but the package names no assembly (assembly: bin/Steps.dll)");
                }

                if (Child(code, "validator") is not null)
                {
                    measurement = ReadMeasurement(code, name, problems);
                }
            }
            else if (problems.Mapping(s, actions[0]) is { } call)
            {
                problems.Unknown(call, action == StepAction.Measure ? ["slot", "command", "name", "units", "validator"] : ["slot", "command"]);
                slot = problems.RequiredString(call, "slot");
                command = problems.RequiredString(call, "command");
                if (slot.Length > 0 && !slots.Contains(slot, StringComparer.Ordinal))
                {
                    problems.At(Child(call, "slot"), $"slot \"{slot}\" is not in the package's hardware ({(slots.Count == 0 ? "none declared" : string.Join(", ", slots))})");
                }

                foreach (var reference in Placeholders.Names(command).Where(r => !parameters.Any(p => p.Name == r)))
                {
                    problems.At(Child(call, "command"), $"${{{reference}}} names no parameter of the package");
                }

                if (action == StepAction.Measure)
                {
                    measurement = ReadMeasurement(call, name, problems);
                }
            }

            var onFail = problems.String(s, "onFail") ?? "continue";
            if (onFail is not ("continue" or "stop"))
            {
                problems.At(Child(s, "onFail"), $"onFail \"{onFail}\" is continue or stop");
            }

            steps.Add(new Step(name, group, steps.Count, action, slot, command, duration, measurement,
                (int)(problems.Number(s, "repeat") ?? 0), onFail == "stop" ? FailAction.Stop : FailAction.Continue,
                problems.Duration(s, "timeout") ?? TimeSpan.FromSeconds(10), problems.Position(s)));
        }

        return steps;
    }

    private static Measurement? ReadMeasurement(YamlMappingNode call, string step, Problems problems)
    {
        var name = problems.String(call, "name") ?? step;
        if (problems.Mapping(call, "validator") is not { } validator || validator.Children.Count != 1)
        {
            problems.At(Child(call, "validator") ?? call, $"measurement \"{name}\" has a validator: one of {string.Join(", ", ValidatorNames)}");
            return null;
        }

        var (key, value) = validator.Children.First();
        var kind = ((YamlScalarNode)key).Value;
        var args = value as YamlMappingNode ?? new YamlMappingNode();
        Validator? made = kind switch
        {
            "in_range" => Checked(args, ["min", "max", "marginal_min", "marginal_max"], () =>
                new InRange(problems.Number(args, "min"), problems.Number(args, "max"), problems.Number(args, "marginal_min"), problems.Number(args, "marginal_max"))),
            "equals" => Checked(args, ["value"], () => new EqualsValue(problems.RequiredString(args, "value"))),
            "regex" => Checked(args, ["pattern"], () => Regex(args)),
            "within_percent" => Checked(args, ["nominal", "percent"], () =>
                new WithinPercent(problems.Number(args, "nominal") ?? Missing(args, "nominal"), problems.Number(args, "percent") ?? Missing(args, "percent"))),
            _ => null,
        };
        if (made is null)
        {
            problems.At(key, $"validator \"{kind}\" is one of {string.Join(", ", ValidatorNames)}");
            return null;
        }

        if (made is InRange { Min: null, Max: null })
        {
            problems.At(value, "in_range has a min, a max, or both");
        }

        return new Measurement(name, problems.String(call, "units"), made);

        Validator Checked(YamlMappingNode node, string[] allowed, Func<Validator> make)
        {
            problems.Unknown(node, allowed);
            return make();
        }

        Validator Regex(YamlMappingNode node)
        {
            var pattern = problems.RequiredString(node, "pattern");
            try
            {
                return new MatchesRegex(pattern);
            }
            catch (ArgumentException ex)
            {
                problems.At(Child(node, "pattern"), $"not a regular expression: {ex.Message}");
                return new EqualsValue(pattern);
            }
        }

        double Missing(YamlMappingNode node, string member)
        {
            problems.At(node, $"{kind} needs \"{member}\"");
            return 0;
        }
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>Collects problems with their positions.</summary>
    private sealed class Problems(string path)
    {
        private readonly List<(long Line, long Column, string Text)> _found = [];

        /// <summary>In the order of their positions in the file.</summary>
        public List<string> List => [.. _found.OrderBy(p => p.Line).ThenBy(p => p.Column).Select(p => p.Text)];

        public int Count => _found.Count;

        public string Position(YamlNode node) => $"{path}:{node.Start.Line}:{node.Start.Column}";

        public void At(YamlNode? node, string message) => _found.Add(node is null
            ? (0, 0, $"{path}: {message}")
            : (node.Start.Line, node.Start.Column, $"{path}:{node.Start.Line}:{node.Start.Column}: {message}"));

        public void Unknown(YamlMappingNode node, string[] known)
        {
            foreach (var key in node.Children.Keys.OfType<YamlScalarNode>().Where(k => !known.Contains(k.Value, StringComparer.Ordinal)))
            {
                At(key, $"unknown key \"{key.Value}\" (known: {string.Join(", ", known)})");
            }
        }

        public string? String(YamlMappingNode node, string key)
        {
            if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value))
            {
                return null;
            }

            if (value is YamlScalarNode scalar)
            {
                return scalar.Value;
            }

            At(value, $"\"{key}\" is a single value");
            return null;
        }

        public string RequiredString(YamlMappingNode node, string key)
        {
            var value = String(node, key);
            if (string.IsNullOrEmpty(value))
            {
                At(node, $"\"{key}\" is required");
            }

            return value ?? "";
        }

        public double? Number(YamlMappingNode node, string key)
        {
            var text = String(node, key);
            if (text is null)
            {
                return null;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n))
            {
                return n;
            }

            At(Child(node, key), $"\"{key}\" is a number (found \"{text}\")");
            return null;
        }

        public TimeSpan? Duration(YamlMappingNode node, string key)
        {
            var text = String(node, key);
            if (text is null)
            {
                return null;
            }

            if (PluginHost.Contracts.Specs.Duration.TryParse(text, out var value) && value >= TimeSpan.Zero)
            {
                return value;
            }

            At(Child(node, key), $"\"{key}\" is a duration such as 500ms, 2s or 1m (found \"{text}\")");
            return null;
        }

        public YamlMappingNode? Mapping(YamlMappingNode node, string key)
        {
            if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value))
            {
                return null;
            }

            if (value is YamlMappingNode mapping)
            {
                return mapping;
            }

            At(value, $"\"{key}\" is a mapping");
            return null;
        }
    }
}
