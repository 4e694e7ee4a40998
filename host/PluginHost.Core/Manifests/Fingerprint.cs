using System.Text;
using PluginHost.Contracts.Specs;

namespace PluginHost.Core.Manifests;

/// <summary>
/// The SHA-256 of a canonical text of a node tree, without positions: equal fingerprints mean equal
/// content. A hash, not the text: the journal keeps it on disk, and a manifest's text holds its
/// secret environment values.
/// </summary>
internal static class Fingerprint
{
    public static string Of(SpecNode node)
    {
        var text = new StringBuilder();
        Append(node, text);
        return OfCanonicalText(text.ToString());
    }

    public const string Prefix = "sha256:";

    /// <summary>The fingerprint of a canonical text (what journals of earlier hosts stored in its place).</summary>
    public static string OfCanonicalText(string text) => Prefix + Convert.ToHexStringLower(Sha256.Hash(Encoding.UTF8.GetBytes(text)));

    private static void Append(SpecNode node, StringBuilder text)
    {
        switch (node)
        {
            case SpecScalar scalar:
                text.Append(scalar.Value is null ? "~" : (scalar.Quoted ? "'" : "") + scalar.Value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"");
                break;
            case SpecSequence sequence:
                text.Append('[');
                foreach (var item in sequence.Items)
                {
                    Append(item, text);
                    text.Append(',');
                }

                text.Append(']');
                break;
            case SpecMapping mapping:
                text.Append('{');
                foreach (var entry in mapping.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    text.Append('"').Append(entry.Key.Replace("\"", "\\\"")).Append("\":");
                    Append(entry.Value, text);
                    text.Append(',');
                }

                text.Append('}');
                break;
        }
    }
}
