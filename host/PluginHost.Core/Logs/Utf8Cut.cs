namespace PluginHost.Core.Logs;

/// <summary>Where a line of UTF-8 may be cut without splitting a character (the tail ring's and a terminal's long lines).</summary>
internal static class Utf8Cut
{
    /// <returns>The largest index at or before <paramref name="limit"/> (which must be inside <paramref name="utf8"/>) where a character starts; 0 when none does.</returns>
    public static int AtOrBefore(ReadOnlySpan<byte> utf8, int limit)
    {
        var cut = limit;
        while (cut > 0 && (utf8[cut] & 0xC0) == 0x80) // a continuation byte: inside a character
        {
            cut--;
        }

        return cut;
    }
}
