using System.Text;
using PluginHost.Contracts.Specs;

namespace PluginHost.Core.Manifests;

/// <summary>A canonical text of a node tree, without positions: equal text means equal content.</summary>
internal static class Fingerprint
{
    public static string Of(SpecNode node)
    {
        var text = new StringBuilder();
        Append(node, text);
        return text.ToString();
    }

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
