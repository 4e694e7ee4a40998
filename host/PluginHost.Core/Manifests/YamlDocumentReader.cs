using System.Text.RegularExpressions;
using PluginHost.Contracts.Specs;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PluginHost.Core.Manifests;

/// <summary>
/// Reads one YAML file into a <see cref="SpecNode"/> tree that remembers file:line:column of every
/// value. Built from the parser's events (not YamlDotNet's object model) so that a duplicate key is a
/// reported problem, not an exception, and so that nothing here ever throws on bad input.
/// </summary>
internal static partial class YamlDocumentReader
{
    /// <summary>Larger manifests are refused: no operator writes one, and it bounds parsing work.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    public static (SpecNode? Root, IReadOnlyList<ManifestProblem> Problems) ReadFile(string path, string displayPath)
    {
        // Only a regular file, opened without blocking, read up to the limit: a FIFO, a device or a
        // symlink to /dev/zero is a problem with its path, never a hang or an unbounded read.
        var bytes = IO.RegularFile.TryRead(path, MaxFileBytes, out var problem);
        if (bytes is null)
        {
            return (null, [ManifestProblem.InFile(displayPath, problem, $"a regular YAML file of at most {MaxFileBytes} bytes")]);
        }

        return Decode(bytes) is { } text ? Read(text, displayPath) : (null, [InvalidUtf8(bytes, displayPath)]);
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <returns>The text (without a byte-order mark), or null when it is not valid UTF-8.</returns>
    private static string? Decode(byte[] bytes)
    {
        var start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        try
        {
            return StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Where the first byte that is not UTF-8 is, as line:column (the column counted in characters, as YAML positions are).</summary>
    private static ManifestProblem InvalidUtf8(byte[] bytes, string displayPath)
    {
        System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var at, out _, replaceInvalidSequences: false);
        var before = System.Text.Encoding.UTF8.GetString(bytes, 0, at);
        var lineStart = before.LastIndexOf('\n') + 1;
        return new ManifestProblem(displayPath, before.Count(c => c == '\n') + 1, before.Length - lineStart + 1, "",
            $"a byte that is not UTF-8 (0x{bytes[Math.Min(at, bytes.Length - 1)]:X2})", "a UTF-8 text file");
    }

    public static (SpecNode? Root, IReadOnlyList<ManifestProblem> Problems) Read(string text, string displayPath)
    {
        ArgumentNullException.ThrowIfNull(text);
        var problems = new List<ManifestProblem>();
        var builder = new TreeBuilder(new Parser(new StringReader(text)), displayPath, problems);
        try
        {
            var root = builder.ReadSingleDocument();
            return (root, problems);
        }
        catch (YamlException ex)
        {
            var (line, column) = ex.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstIndentingTab(text) is { } tab
                ? tab // YamlDotNet reports where the mapping began (often 1:1), not where the tab is
                : ((int)ex.Start.Line, (int)ex.Start.Column);
            problems.Add(new ManifestProblem(displayPath, line, column, "",
                $"invalid YAML ({StripMark(ex.Message)})", line == (int)ex.Start.Line && column == (int)ex.Start.Column ? "well-formed YAML" : "spaces for indentation (YAML forbids tabs there)"));
            return (null, problems);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner fails this way on some malformed input (found by the property tests):
            // it is still the file's fault, reported at the last position the parser reached.
            problems.Add(new ManifestProblem(displayPath, builder.LastLine, builder.LastColumn, "",
                "invalid YAML (the parser could not read past this point)", "well-formed YAML"));
            return (null, problems);
        }
    }

    /// <summary>The line and column of the first tab among a line's leading whitespace.</summary>
    private static (int Line, int Column)? FirstIndentingTab(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return (i + 1, tab + 1);
            }
        }

        return null;
    }

    private static string StripMark(string message) => MarkPrefix().Replace(message, "").Trim();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex MarkPrefix();

    private sealed class TreeBuilder(IParser parser, string file, List<ManifestProblem> problems)
    {
        private const int MaxDepth = 64;
        private readonly Dictionary<string, SpecNode> _anchors = new(StringComparer.Ordinal);

        public SpecNode? ReadSingleDocument()
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out var end))
            {
                problems.Add(new ManifestProblem(file, (int)end.Start.Line, (int)end.Start.Column, "", "an empty file", "a YAML mapping"));
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode("", 0);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                problems.Add(new ManifestProblem(file, (int)second.Start.Line, (int)second.Start.Column, "",
                    "a second YAML document (---)", "one document per file"));
            }

            return root;
        }

        public int LastLine { get; private set; } = 1;

        public int LastColumn { get; private set; } = 1;

        /// <summary>The YAML 1.2 core schema's tags: anything else (!!binary, !!timestamp, !custom) means a value this reader would not honour.</summary>
        private static readonly HashSet<string> CoreTags = new(StringComparer.Ordinal)
        {
            "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map", "!",
        };

        private void CheckTag(NodeEvent e, string path)
        {
            if (!e.Tag.IsEmpty && !CoreTags.Contains(e.Tag.Value))
            {
                var shown = e.Tag.Value.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal) ? "!!" + e.Tag.Value["tag:yaml.org,2002:".Length..] : e.Tag.Value;
                problems.Add(new ManifestProblem(file, (int)e.Start.Line, (int)e.Start.Column, path,
                    $"the YAML tag {shown}, which manifests do not use", "plain values (a tag such as !!binary would otherwise be silently ignored)"));
            }
        }

        private SourceLocation At(ParsingEvent e)
        {
            (LastLine, LastColumn) = ((int)e.End.Line, (int)e.End.Column);
            return new(file, (int)e.Start.Line, (int)e.Start.Column);
        }

        private SpecNode ReadNode(string path, int depth)
        {
            if (depth > MaxDepth)
            {
                var current = parser.Current!;
                throw new YamlException(current.Start, current.End, $"nesting deeper than {MaxDepth} levels");
            }

            if (parser.TryConsume<AnchorAlias>(out var alias))
            {
                if (_anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    return target;
                }

                throw new YamlException(alias.Start, alias.End, $"unknown alias *{alias.Value}");
            }

            SpecNode node;
            string? anchor;
            if (parser.TryConsume<Scalar>(out var scalar))
            {
                CheckTag(scalar, path);
                anchor = scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value;
                node = new SpecScalar(path, At(scalar), IsNull(scalar) ? null : scalar.Value, scalar.Style != ScalarStyle.Plain);
            }
            else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
            {
                CheckTag(sequenceStart, path);
                anchor = sequenceStart.Anchor.IsEmpty ? null : sequenceStart.Anchor.Value;
                var items = new List<SpecNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    items.Add(ReadNode($"{path}[{items.Count}]", depth + 1));
                }

                node = new SpecSequence(path, At(sequenceStart), items);
            }
            else
            {
                var mappingStart = parser.Consume<MappingStart>();
                CheckTag(mappingStart, path);
                anchor = mappingStart.Anchor.IsEmpty ? null : mappingStart.Anchor.Value;
                node = ReadMapping(path, mappingStart, depth);
            }

            if (anchor is not null)
            {
                _anchors[anchor] = node;
            }

            return node;
        }

        private SpecMapping ReadMapping(string path, MappingStart start, int depth)
        {
            var entries = new List<SpecEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Current!;
                var keyNode = ReadNode(path, depth + 1);
                if (keyNode is not SpecScalar { Value: { } key })
                {
                    problems.Add(new ManifestProblem(file, (int)keyEvent.Start.Line, (int)keyEvent.Start.Column, path,
                        $"{keyNode.Describe()} used as a key", "a plain text key"));
                    ReadNode(path, depth + 1);
                    continue;
                }

                var childPath = SpecReader.Join(path, key);
                var value = ReadNode(childPath, depth + 1);
                if (!seen.Add(key))
                {
                    problems.Add(new ManifestProblem(file, (int)keyEvent.Start.Line, (int)keyEvent.Start.Column, childPath,
                        $"a duplicate key \"{key}\"", "each key once per mapping"));
                    continue;
                }

                entries.Add(new SpecEntry(key, new SourceLocation(file, (int)keyEvent.Start.Line, (int)keyEvent.Start.Column), value));
            }

            return new SpecMapping(path, At(start), entries);
        }

        private static bool IsNull(Scalar scalar) =>
            scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";
    }
}
