using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PluginHost.Plugins.Launchd.Formats;

/// <summary>
/// Writes the small YAML of a unit manifest by hand (plugins carry no YAML library): every string
/// double-quoted with JSON's escapes, which YAML reads the same, so no value can turn into another
/// type or break the layout whatever it holds.
/// </summary>
internal sealed class YamlText
{
    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly StringBuilder _text = new();

    public static string Quote(string value) => JsonSerializer.Serialize(value, Quoting);

    public YamlText Comment(string line)
    {
        foreach (var part in line.Split('\n'))
        {
            _text.Append("# ").Append(part.Replace("\r", "", StringComparison.Ordinal)).Append('\n');
        }

        return this;
    }

    public YamlText Line(int depth, string text)
    {
        _text.Append(' ', depth * 2).Append(text).Append('\n');
        return this;
    }

    public YamlText Key(int depth, string key) => Line(depth, Key(key) + ":");

    public YamlText Scalar(int depth, string key, object value) => Line(depth, $"{Key(key)}: {Format(value)}");

    public YamlText List(int depth, string key, IEnumerable<string> items)
    {
        Key(depth, key);
        foreach (var item in items)
        {
            Line(depth + 1, "- " + Quote(item));
        }

        return this;
    }

    /// <summary>A key as written: plain when it is a simple word, quoted otherwise (paths, labels with spaces).</summary>
    private static string Key(string key) => key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && !char.IsAsciiDigit(key[0])
        ? key : Quote(key);

    private static string Format(object value) => value switch
    {
        string s => Quote(s),
        bool b => b ? "true" : "false",
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        _ => Quote(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""),
    };

    public override string ToString() => _text.ToString();
}
