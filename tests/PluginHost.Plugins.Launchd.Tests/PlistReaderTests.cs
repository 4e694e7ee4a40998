using System.Text;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Testing;
using PluginHost.Plugins.Launchd.Plist;
using Xunit;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>
/// The plist reader and writer against Python's plistlib, which nobody here wrote: every value type,
/// both forms, the seed's job shapes; and the reader fed garbage as an attacker would feed it.
/// </summary>
public sealed class PlistReaderTests : IDisposable
{
    private readonly TempDirectory _temp = new("plist");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Reads_what_plistlib_writes_in_both_forms_exactly()
    {
        Peers.MakeCases(_temp.Path);
        var cases = Directory.GetFiles(_temp.Path, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).ToList();
        Assert.Contains("values", cases);
        Assert.True(cases.Count >= 7, string.Join(", ", cases));
        foreach (var name in cases)
        {
            var expected = JsonNode.Parse(File.ReadAllText(_temp.Combine(name + ".json")));
            foreach (var form in new[] { "xml", "bin" })
            {
                var bytes = File.ReadAllBytes(_temp.Combine($"{name}.{form}.plist"));
                Assert.Equal(form == "bin", bytes.AsSpan().StartsWith("bplist00"u8));
                var read = PlistCanon.Of(PlistReader.Read(bytes));
                Assert.True(JsonNode.DeepEquals(expected, read), $"{name}.{form}.plist:\nplistlib: {expected}\nours:     {read}");
            }
        }
    }

    [Fact]
    public void What_it_writes_plistlib_reads_as_the_same_values()
    {
        Peers.MakeCases(_temp.Path);
        foreach (var file in Directory.GetFiles(_temp.Path, "*.bin.plist"))
        {
            var value = PlistReader.Read(File.ReadAllBytes(file));
            var written = _temp.Combine(Path.GetFileName(file) + ".ours.xml");
            File.WriteAllText(written, PlistWriter.Write(value));
            var expected = JsonNode.Parse(File.ReadAllText(file.Replace(".bin.plist", ".json", StringComparison.Ordinal)));
            var back = Peers.ReadWithPlistlib(written);
            Assert.True(JsonNode.DeepEquals(expected, back), $"{written}:\nexpected: {expected}\nplistlib: {back}");
        }
    }

    [Fact]
    public void Every_truncation_and_byte_flip_of_a_binary_plist_is_a_plist_error_never_a_crash()
    {
        Peers.MakeCases(_temp.Path);
        var good = File.ReadAllBytes(_temp.Combine("cloudflared.bin.plist"));
        var random = new Random(1807);
        var outcomes = new Dictionary<string, int>();
        void Feed(byte[] bytes)
        {
            try
            {
                PlistReader.Read(bytes);
                outcomes["read"] = outcomes.GetValueOrDefault("read") + 1;
            }
            catch (PlistException)
            {
                outcomes["refused"] = outcomes.GetValueOrDefault("refused") + 1;
            }
        }

        for (var length = 0; length < good.Length; length++)
        {
            Feed(good[..length]);
        }

        for (var i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])good.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            Feed(bytes);
        }

        Assert.True(outcomes.GetValueOrDefault("refused") > good.Length, string.Join(", ", outcomes)); // every cut and most flips are refused
    }

    [Fact]
    public void A_binary_plist_that_contains_itself_is_refused()
    {
        // One array (object 0) whose only item is object 0.
        var bytes = Binary(objects: [[0xA1, 0x00]], top: 0);
        var error = Assert.Throws<PlistException>(() => PlistReader.Read(bytes));
        Assert.Contains("contains itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_binary_plist_that_would_expand_to_billions_of_values_is_refused()
    {
        // Object k is an array of 15 references to object k+1: 40 levels would be 15^40 values.
        var objects = Enumerable.Range(0, 40).Select(k => (byte[])[0xAF, 0x10, 15, .. Enumerable.Repeat((byte)(k + 1), 15)]).ToList();
        objects.Add([0x09]); // true
        var error = Assert.Throws<PlistException>(() => PlistReader.Read(Binary(objects, top: 0)));
        Assert.Contains("values", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_xml_plist_never_resolves_entities_or_external_files()
    {
        var xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE plist [ <!ENTITY secret SYSTEM "file:///etc/passwd"> <!ENTITY lol "lol"> <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;"> ]>
            <plist version="1.0"><dict><key>Label</key><string>&secret;&lol2;</string></dict></plist>
            """;
        var error = Assert.Throws<PlistException>(() => PlistReader.Read(Encoding.UTF8.GetBytes(xxe)));
        Assert.DoesNotContain("root:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<plist><dict><key>a</key></dict></plist>", "has no value")]
    [InlineData("<plist><dict><string>a</string><string>b</string></dict></plist>", "where a <key> belongs")]
    [InlineData("<plist><dict><key>a</key><integer>1</integer><key>a</key><integer>2</integer></dict></plist>", "appears twice")]
    [InlineData("<plist><integer>12x</integer></plist>", "not a whole number")]
    [InlineData("<plist><thing/></plist>", "not a property list type")]
    [InlineData("<html/>", "not <plist>")]
    [InlineData("<plist><dict>", "not a readable XML property list")]
    [InlineData("", "not a readable XML property list")]
    public void A_malformed_xml_plist_says_what_and_where(string xml, string expected)
    {
        var error = Assert.Throws<PlistException>(() => PlistReader.Read(Encoding.UTF8.GetBytes(xml)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A bplist00 file from raw objects, with one-byte offsets and references.</summary>
    private static byte[] Binary(IReadOnlyList<byte[]> objects, int top)
    {
        var body = new List<byte>("bplist00"u8.ToArray());
        var offsets = new List<int>();
        foreach (var o in objects)
        {
            offsets.Add(body.Count);
            body.AddRange(o);
        }

        var table = body.Count;
        var offsetSize = table > 255 ? 2 : 1;
        foreach (var offset in offsets)
        {
            if (offsetSize == 2)
            {
                body.Add((byte)(offset >> 8));
            }

            body.Add((byte)offset);
        }

        var trailer = new byte[32];
        trailer[6] = (byte)offsetSize;
        trailer[7] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(trailer.AsSpan(8), (ulong)objects.Count);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(trailer.AsSpan(16), (ulong)top);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(trailer.AsSpan(24), (ulong)table);
        body.AddRange(trailer);
        return [.. body];
    }
}
