namespace PluginHost.Plugins.Launchd.Plist;

/// <summary>
/// A property list value (Apple's plist: XML or binary). Dictionaries keep the order their keys
/// were written in, so an exported plist reads like the one imported.
/// </summary>
internal abstract record PlistValue
{
    /// <summary>The plist type's name, for messages: "string", "dict"…</summary>
    public abstract string TypeName { get; }
}

internal sealed record PlistString(string Value) : PlistValue
{
    public override string TypeName => "string";
}

internal sealed record PlistInteger(long Value) : PlistValue
{
    public override string TypeName => "integer";
}

internal sealed record PlistReal(double Value) : PlistValue
{
    public override string TypeName => "real";
}

internal sealed record PlistBoolean(bool Value) : PlistValue
{
    public override string TypeName => Value ? "true" : "false";
}

internal sealed record PlistDate(DateTimeOffset Value) : PlistValue
{
    public override string TypeName => "date";
}

internal sealed record PlistData(byte[] Value) : PlistValue
{
    public override string TypeName => "data";
}

internal sealed record PlistArray(IReadOnlyList<PlistValue> Items) : PlistValue
{
    public override string TypeName => "array";
}

internal sealed record PlistDict(IReadOnlyList<KeyValuePair<string, PlistValue>> Entries) : PlistValue
{
    public override string TypeName => "dict";

    public PlistValue? this[string key] => Entries.FirstOrDefault(e => e.Key == key).Value;
}

/// <summary>A plist that cannot be read: what is wrong and where (line of the XML, or byte offset of the binary form).</summary>
internal sealed class PlistException : Exception
{
    public PlistException(string message)
        : base(message)
    {
    }

    public PlistException()
    {
    }

    public PlistException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
