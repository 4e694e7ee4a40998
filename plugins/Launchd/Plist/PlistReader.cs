using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace PluginHost.Plugins.Launchd.Plist;

/// <summary>
/// Reads a property list in either of its forms: XML (<c>&lt;plist&gt;</c>) or binary
/// (<c>bplist00</c>). Written for untrusted files: no DTD or external entity is ever resolved, every
/// offset and reference of the binary form is checked, cycles and nesting deeper than
/// <see cref="MaxDepth"/> are refused, and a file that expands to more than <see cref="MaxValues"/>
/// values (shared objects referenced over and over) is refused rather than expanded.
/// </summary>
internal static class PlistReader
{
    public const int MaxDepth = 64;
    public const int MaxValues = 200_000;
    private static readonly DateTimeOffset Epoch2001 = new(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <exception cref="PlistException">The bytes are not a property list this reader understands; the message says where.</exception>
    public static PlistValue Read(ReadOnlySpan<byte> content) =>
        content.StartsWith("bplist"u8) ? new Binary(content.ToArray()).ReadTop() : ReadXml(content.ToArray());

    private static PlistValue ReadXml(byte[] content)
    {
        XDocument document;
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null, MaxCharactersFromEntities = 0, IgnoreComments = true };
            using var stream = new MemoryStream(content, writable: false);
            using var reader = XmlReader.Create(stream, settings);
            document = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new PlistException($"not a readable XML property list: {ex.Message}", ex);
        }

        var root = document.Root;
        if (root is null || root.Name.LocalName != "plist")
        {
            throw new PlistException($"line {Line(root)}: the root element is <{root?.Name.LocalName}>, not <plist> (is this a property list?)");
        }

        var values = root.Elements().ToList();
        if (values.Count != 1)
        {
            throw new PlistException($"line {Line(root)}: <plist> holds {values.Count} values, not one");
        }

        var count = 0;
        return XmlValue(values[0], 0, ref count);
    }

    private static PlistValue XmlValue(XElement element, int depth, ref int count)
    {
        if (depth > MaxDepth)
        {
            throw new PlistException($"line {Line(element)}: nested more than {MaxDepth} deep");
        }

        if (++count > MaxValues)
        {
            throw new PlistException($"more than {MaxValues} values: too large for a job description");
        }

        var text = element.Value;
        switch (element.Name.LocalName)
        {
            case "string":
                return new PlistString(text);
            case "integer":
                return long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                    ? new PlistInteger(integer)
                    : throw new PlistException($"line {Line(element)}: <integer> holds \"{Short(text)}\", not a whole number");
            case "real":
                return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var real)
                    ? new PlistReal(real)
                    : throw new PlistException($"line {Line(element)}: <real> holds \"{Short(text)}\", not a number");
            case "true":
                return new PlistBoolean(true);
            case "false":
                return new PlistBoolean(false);
            case "date":
                return DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
                    ? new PlistDate(date)
                    : throw new PlistException($"line {Line(element)}: <date> holds \"{Short(text)}\", not an ISO 8601 date");
            case "data":
                try
                {
                    return new PlistData(Convert.FromBase64String(string.Concat(text.Where(c => !char.IsWhiteSpace(c)))));
                }
                catch (FormatException)
                {
                    throw new PlistException($"line {Line(element)}: <data> is not base64");
                }

            case "array":
                var items = new List<PlistValue>();
                foreach (var child in element.Elements())
                {
                    items.Add(XmlValue(child, depth + 1, ref count));
                }

                return new PlistArray(items);
            case "dict":
                return XmlDict(element, depth, ref count);
            default:
                throw new PlistException($"line {Line(element)}: <{element.Name.LocalName}> is not a property list type");
        }
    }

    private static PlistDict XmlDict(XElement element, int depth, ref int count)
    {
        var children = element.Elements().ToList();
        var entries = new List<KeyValuePair<string, PlistValue>>();
        for (var i = 0; i < children.Count; i += 2)
        {
            if (children[i].Name.LocalName != "key")
            {
                throw new PlistException($"line {Line(children[i])}: <{children[i].Name.LocalName}> in a <dict> where a <key> belongs");
            }

            if (i + 1 >= children.Count)
            {
                throw new PlistException($"line {Line(children[i])}: the key \"{Short(children[i].Value)}\" has no value");
            }

            var key = children[i].Value;
            if (entries.Any(e => e.Key == key))
            {
                throw new PlistException($"line {Line(children[i])}: the key \"{Short(key)}\" appears twice in one <dict>");
            }

            entries.Add(new(key, XmlValue(children[i + 1], depth + 1, ref count)));
        }

        return new PlistDict(entries);
    }

    private static int Line(XElement? element) => element is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;

    private static string Short(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>The binary form: a header, objects, an offset table, and a 32-byte trailer that says where the table is.</summary>
    private sealed class Binary
    {
        private readonly byte[] _bytes;
        private readonly long[] _offsets;
        private readonly int _refSize;
        private readonly long _top;
        private readonly HashSet<long> _open = [];
        private int _count;

        public Binary(byte[] bytes)
        {
            _bytes = bytes;
            if (bytes.Length < 8 + 32 || !bytes.AsSpan(0, 8).SequenceEqual("bplist00"u8))
            {
                throw new PlistException(bytes.Length < 40 ? "a binary property list too short to hold its trailer" : "an unknown binary property list version (only bplist00 is read)");
            }

            var trailer = bytes.AsSpan(bytes.Length - 32);
            var offsetSize = trailer[6];
            _refSize = trailer[7];
            var objects = BinaryPrimitives.ReadUInt64BigEndian(trailer[8..]);
            var top = BinaryPrimitives.ReadUInt64BigEndian(trailer[16..]);
            var table = BinaryPrimitives.ReadUInt64BigEndian(trailer[24..]);
            if (offsetSize is < 1 or > 8 || _refSize is < 1 or > 8)
            {
                throw new PlistException($"trailer: offset size {offsetSize} and reference size {_refSize} must be 1 to 8 bytes");
            }

            var tableEnd = (ulong)bytes.Length - 32;
            if (objects == 0 || table < 8 || table > tableEnd || objects > (tableEnd - table) / offsetSize)
            {
                throw new PlistException($"trailer: {objects} objects with an offset table at byte {table} do not fit in {bytes.Length} bytes");
            }

            if (top >= objects)
            {
                throw new PlistException($"trailer: the top object {top} is not one of the {objects} objects");
            }

            _top = (long)top;
            _offsets = new long[objects];
            for (var i = 0UL; i < objects; i++)
            {
                var offset = ReadUnsigned(checked((long)(table + (i * offsetSize))), offsetSize);
                if (offset < 8 || offset >= (long)table)
                {
                    throw new PlistException($"offset table: object {i} at byte {offset}, outside the objects (8–{table})");
                }

                _offsets[i] = offset;
            }
        }

        public PlistValue ReadTop() => Object(_top, 0);

        private PlistValue Object(long index, int depth)
        {
            if (depth > MaxDepth)
            {
                throw new PlistException($"object {index}: nested more than {MaxDepth} deep");
            }

            if (++_count > MaxValues)
            {
                throw new PlistException($"more than {MaxValues} values (shared objects referenced over and over): too large for a job description");
            }

            var at = _offsets[index];
            var marker = _bytes[at];
            var kind = marker >> 4;
            var info = marker & 0x0F;
            switch (kind)
            {
                case 0x0 when info is 0x8 or 0x9:
                    return new PlistBoolean(info == 0x9);
                case 0x1 when info <= 3:
                    var size = 1 << info;
                    return new PlistInteger(size == 8 ? (long)ReadUnsignedU64(at + 1) : ReadUnsigned(at + 1, size));
                case 0x2 when info is 2 or 3:
                    return new PlistReal(info == 2
                        ? BinaryPrimitives.ReadSingleBigEndian(Slice(at + 1, 4))
                        : BinaryPrimitives.ReadDoubleBigEndian(Slice(at + 1, 8)));
                case 0x3 when info == 3:
                    var seconds = BinaryPrimitives.ReadDoubleBigEndian(Slice(at + 1, 8));
                    return double.IsFinite(seconds) && Math.Abs(seconds) < 1e11
                        ? new PlistDate(Epoch2001.AddSeconds(seconds))
                        : throw new PlistException($"object {index} at byte {at}: a date {seconds} s from 2001 is out of range");
                case 0x4:
                    var (dataLength, dataStart) = Count(at, info);
                    return new PlistData(Slice(dataStart, dataLength).ToArray());
                case 0x5:
                    var (asciiLength, asciiStart) = Count(at, info);
                    return new PlistString(Encoding.ASCII.GetString(Slice(asciiStart, asciiLength)));
                case 0x6:
                    var (chars, utf16Start) = Count(at, info);
                    return new PlistString(Encoding.BigEndianUnicode.GetString(Slice(utf16Start, checked(chars * 2))));
                case 0xA:
                    var (itemCount, itemsStart) = Count(at, info);
                    return Enter(index, () =>
                    {
                        var items = new List<PlistValue>();
                        for (var i = 0; i < itemCount; i++)
                        {
                            items.Add(Object(Reference(itemsStart + ((long)i * _refSize)), depth + 1));
                        }

                        return new PlistArray(items);
                    });
                case 0xD:
                    var (entryCount, keysStart) = Count(at, info);
                    return Enter(index, () =>
                    {
                        var entries = new List<KeyValuePair<string, PlistValue>>();
                        var valuesStart = keysStart + ((long)entryCount * _refSize);
                        for (var i = 0; i < entryCount; i++)
                        {
                            var keyIndex = Reference(keysStart + ((long)i * _refSize));
                            if (Object(keyIndex, depth + 1) is not PlistString key)
                            {
                                throw new PlistException($"object {index} at byte {at}: a dictionary key (object {keyIndex}) is not a string");
                            }

                            if (entries.Any(e => e.Key == key.Value))
                            {
                                throw new PlistException($"object {index} at byte {at}: the key \"{Short(key.Value)}\" appears twice");
                            }

                            entries.Add(new(key.Value, Object(Reference(valuesStart + ((long)i * _refSize)), depth + 1)));
                        }

                        return new PlistDict(entries);
                    });
                default:
                    throw new PlistException($"object {index} at byte {at}: marker 0x{marker:X2} is not a type this reader knows (null, UID and set are not used by job descriptions)");
            }
        }

        /// <summary>A container being read must not contain itself: a cycle would never end.</summary>
        private PlistValue Enter(long index, Func<PlistValue> read)
        {
            if (!_open.Add(index))
            {
                throw new PlistException($"object {index} contains itself: the binary property list is malformed");
            }

            try
            {
                return read();
            }
            finally
            {
                _open.Remove(index);
            }
        }

        /// <summary>A length in the marker's low nibble, or (0xF) in the integer that follows it.</summary>
        private (int Count, long Start) Count(long at, int info)
        {
            if (info != 0xF)
            {
                return (info, at + 1);
            }

            var marker = Slice(at + 1, 1)[0];
            if (marker >> 4 != 0x1 || (marker & 0xF) > 3)
            {
                throw new PlistException($"byte {at + 1}: a length should follow as an integer, found marker 0x{marker:X2}");
            }

            var size = 1 << (marker & 0xF);
            var count = size == 8 ? (long)ReadUnsignedU64(at + 2) : ReadUnsigned(at + 2, size);
            if (count < 0 || count > _bytes.Length)
            {
                throw new PlistException($"byte {at + 1}: a length of {count} in a file of {_bytes.Length} bytes");
            }

            return ((int)count, at + 2 + size);
        }

        private long Reference(long at)
        {
            var reference = ReadUnsigned(at, _refSize);
            return reference >= 0 && reference < _offsets.Length
                ? reference
                : throw new PlistException($"byte {at}: a reference to object {reference}, of {_offsets.Length}");
        }

        private long ReadUnsigned(long at, int size)
        {
            var span = Slice(at, size);
            var value = 0UL;
            foreach (var b in span)
            {
                value = (value << 8) | b;
            }

            return value > long.MaxValue ? throw new PlistException($"byte {at}: a {size}-byte number too large") : (long)value;
        }

        private ulong ReadUnsignedU64(long at) => BinaryPrimitives.ReadUInt64BigEndian(Slice(at, 8));

        private ReadOnlySpan<byte> Slice(long at, long length) =>
            at >= 0 && length >= 0 && at + length <= _bytes.Length - 32
                ? _bytes.AsSpan((int)at, (int)length)
                : throw new PlistException($"byte {at}: {length} bytes would run past the objects ({_bytes.Length - 32} bytes)");
    }
}
