using System.Globalization;
using System.Text;

namespace PluginHost.Plugins.Launchd.Plist;

/// <summary>Writes a property list in its XML form, laid out as Apple's tools write it (tabs, the standard DOCTYPE).</summary>
internal static class PlistWriter
{
    public static string Write(PlistValue value)
    {
        var text = new StringBuilder();
        text.Append("""
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">

            """);
        Value(text, value, 0);
        text.Append("</plist>\n");
        return text.ToString();
    }

    private static void Value(StringBuilder text, PlistValue value, int depth)
    {
        var indent = new string('\t', depth);
        switch (value)
        {
            case PlistString s:
                text.Append(indent).Append("<string>").Append(Escape(s.Value)).Append("</string>\n");
                break;
            case PlistInteger i:
                text.Append(indent).Append("<integer>").Append(i.Value.ToString(CultureInfo.InvariantCulture)).Append("</integer>\n");
                break;
            case PlistReal r:
                text.Append(indent).Append("<real>").Append(r.Value.ToString("R", CultureInfo.InvariantCulture)).Append("</real>\n");
                break;
            case PlistBoolean b:
                text.Append(indent).Append(b.Value ? "<true/>\n" : "<false/>\n");
                break;
            case PlistDate d:
                text.Append(indent).Append("<date>").Append(d.Value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append("</date>\n");
                break;
            case PlistData data:
                text.Append(indent).Append("<data>").Append(Convert.ToBase64String(data.Value)).Append("</data>\n");
                break;
            case PlistArray { Items.Count: 0 }:
                text.Append(indent).Append("<array/>\n");
                break;
            case PlistArray array:
                text.Append(indent).Append("<array>\n");
                foreach (var item in array.Items)
                {
                    Value(text, item, depth + 1);
                }

                text.Append(indent).Append("</array>\n");
                break;
            case PlistDict { Entries.Count: 0 }:
                text.Append(indent).Append("<dict/>\n");
                break;
            case PlistDict dict:
                text.Append(indent).Append("<dict>\n");
                foreach (var (key, item) in dict.Entries)
                {
                    text.Append(indent).Append('\t').Append("<key>").Append(Escape(key)).Append("</key>\n");
                    Value(text, item, depth + 1);
                }

                text.Append(indent).Append("</dict>\n");
                break;
            default:
                throw new ArgumentException($"unknown plist value {value.GetType().Name}", nameof(value));
        }
    }

    /// <exception cref="ArgumentException">The text holds a control character XML 1.0 cannot carry.</exception>
    private static string Escape(string text) => text.Any(c => c < 0x20 && c is not ('\t' or '\n' or '\r'))
        ? throw new ArgumentException($"\"{text}\" holds a control character, which an XML plist cannot carry", nameof(text))
        : text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
