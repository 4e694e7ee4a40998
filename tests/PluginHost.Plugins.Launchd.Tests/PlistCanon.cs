using System.Buffers.Binary;
using System.Text.Json.Nodes;
using PluginHost.Plugins.Launchd.Plist;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>A plist value as the peer's canonical JSON (plistlib_peer.py says the tags), so the two readers are compared exactly.</summary>
internal static class PlistCanon
{
    public static JsonNode? Of(PlistValue value) => value switch
    {
        PlistString s => JsonValue.Create(s.Value),
        PlistBoolean b => JsonValue.Create(b.Value),
        PlistInteger i => new JsonObject { ["int"] = i.Value },
        PlistReal r => new JsonObject { ["real"] = Hex(r.Value) },
        PlistDate d => new JsonObject { ["date"] = d.Value.ToUnixTimeSeconds() },
        PlistData data => new JsonObject { ["data"] = Convert.ToBase64String(data.Value) },
        PlistArray a => new JsonArray([.. a.Items.Select(Of)]),
        PlistDict d => new JsonObject(d.Entries.Select(e => new KeyValuePair<string, JsonNode?>(e.Key, Of(e.Value)))),
        _ => throw new ArgumentException(value.GetType().Name),
    };

    private static string Hex(double value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
        return Convert.ToHexStringLower(bytes);
    }
}
