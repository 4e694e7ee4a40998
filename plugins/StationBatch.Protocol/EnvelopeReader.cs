using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginHost.Station.Protocol;

/// <summary>
/// Checks every received frame before anything acts on it: size, UTF-8, JSON, version, type for
/// the receiving side, and the members each type needs. Never throws on what a peer sent: a bad
/// frame is a <see cref="ProtocolError"/> to answer and log.
/// </summary>
public static class EnvelopeReader
{
    /// <summary>Larger frames are refused before they are parsed.</summary>
    public const int MaxFrameBytes = 1024 * 1024;

    private const int MaxDepth = 32;

    public static (Envelope? Message, ProtocolError? Error) Read(ReadOnlySpan<byte> frame, IReadOnlySet<string> accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        if (frame.Length > MaxFrameBytes)
        {
            return Fail("FRAME_TOO_LARGE", $"a frame of {frame.Length} bytes; at most {MaxFrameBytes} are accepted");
        }

        // Checked whole first: System.Text.Json transcodes strings lazily, and would throw on a bad
        // byte inside one only when the value is read.
        if (!System.Text.Unicode.Utf8.IsValid(frame))
        {
            return Fail("MALFORMED_JSON", "not UTF-8");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(frame, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            return Fail("MALFORMED_JSON", $"not a JSON message ({ex.Message})");
        }
        catch (ArgumentException ex)
        {
            return Fail("MALFORMED_JSON", $"not UTF-8 JSON ({ex.Message})");
        }

        if (node is not JsonObject json)
        {
            return Fail("MALFORMED_MESSAGE", "a message is a JSON object");
        }

        if (!TryInt(json, "v", out var version) || version != Envelope.Version)
        {
            return Fail("UNSUPPORTED_VERSION", $"protocol version {Describe(json["v"])}; this side speaks {Envelope.Version}");
        }

        if (!TryString(json, "type", out var type))
        {
            return Fail("MALFORMED_MESSAGE", "\"type\" is missing or not a string");
        }

        if (!accepted.Contains(type))
        {
            return Fail("UNKNOWN_TYPE", $"\"{Truncate(type)}\" is not a message this side accepts ({string.Join(", ", accepted.Order(StringComparer.Ordinal))})");
        }

        if (!TryString(json, "batch", out var batch))
        {
            return Fail("MALFORMED_MESSAGE", "\"batch\" is missing or not a string");
        }

        var message = new Envelope(type, batch)
        {
            Id = OptionalString(json, "id"),
            Re = OptionalString(json, "re"),
            Execution = OptionalString(json, "exec"),
            Sequence = TryLong(json, "seq", out var seq) ? seq : null,
            Ok = json["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var b) ? b : null,
            Error = json["error"] is JsonObject e && TryString(e, "code", out var code) ? new ProtocolError(code, OptionalString(e, "message") ?? "", OptionalString(e, "remedy")) : null,
            Body = json["body"] as JsonObject,
        };
        if (json["body"] is { } body && body is not JsonObject)
        {
            return Fail("MALFORMED_MESSAGE", "\"body\" is an object when present");
        }

        return Check(message) is { } problem ? (null, problem) : (message, null);
    }

    /// <summary>The members each type needs.</summary>
    private static ProtocolError? Check(Envelope m) => m.Type switch
    {
        _ when MessageTypes.Commands.Contains(m.Type) && string.IsNullOrEmpty(m.Id) => Error("a command has an \"id\""),
        MessageTypes.Reply when m.Re is null || m.Ok is null => Error("a REPLY has \"re\" and \"ok\""),
        MessageTypes.Ack when m.Execution is null || m.Sequence is not > 0 => Error("an ACK has \"exec\" and a \"seq\" from 1"),
        _ when MessageTypes.ExecutionEvents.Contains(m.Type) && (string.IsNullOrEmpty(m.Execution) || m.Sequence is not > 0) =>
            Error($"a {m.Type} has \"exec\" and a \"seq\" from 1"),
        _ => null,
    };

    private static ProtocolError Error(string message) => new("MALFORMED_MESSAGE", message);

    private static (Envelope?, ProtocolError?) Fail(string code, string message) => (null, new ProtocolError(code, message));

    private static bool TryString(JsonObject json, string name, out string value)
    {
        if (json[name] is JsonValue v && v.TryGetValue<string>(out var s))
        {
            value = s;
            return true;
        }

        value = "";
        return false;
    }

    private static string? OptionalString(JsonObject json, string name) => TryString(json, name, out var s) ? s : null;

    private static bool TryInt(JsonObject json, string name, out int value)
    {
        value = 0;
        return json[name] is JsonValue v && v.TryGetValue<int>(out value);
    }

    private static bool TryLong(JsonObject json, string name, out long value)
    {
        value = 0;
        return json[name] is JsonValue v && v.TryGetValue<long>(out value);
    }

    private static string Describe(JsonNode? node) => node is null ? "missing" : Truncate(node.ToJsonString());

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    /// <summary>For logs: the start of a frame that was refused, printable.</summary>
    public static string Preview(ReadOnlySpan<byte> frame)
    {
        var text = Encoding.UTF8.GetString(frame[..Math.Min(frame.Length, 80)]);
        return new string([.. text.Select(c => char.IsControl(c) ? '·' : c)]);
    }
}
