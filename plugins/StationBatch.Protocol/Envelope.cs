using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginHost.Station.Protocol;

/// <summary>
/// One protocol message: a JSON object in one ZeroMQ frame,
/// <c>{"v":1,"type":…,"batch":…,"id"?,"re"?,"exec"?,"seq"?,"ok"?,"error"?,"body"?}</c>
/// (docs/station.md has the schema: <c>docs/station-protocol.schema.json</c>).
/// </summary>
public sealed record Envelope(string Type, string Batch)
{
    public const int Version = 1;

    /// <summary>A command's id, chosen by the master; the REPLY carries it in <see cref="Re"/>.</summary>
    public string? Id { get; init; }

    public string? Re { get; init; }

    /// <summary>The execution an event belongs to (and what an ACK acknowledges).</summary>
    public string? Execution { get; init; }

    /// <summary>The event's number within its execution, from 1, without gaps; an ACK acknowledges every number up to it.</summary>
    public long? Sequence { get; init; }

    /// <summary>A REPLY's outcome.</summary>
    public bool? Ok { get; init; }

    public ProtocolError? Error { get; init; }

    public JsonObject? Body { get; init; }

    public string ToJson()
    {
        var json = new JsonObject { ["v"] = Version, ["type"] = Type, ["batch"] = Batch };
        Add(json, "id", Id);
        Add(json, "re", Re);
        Add(json, "exec", Execution);
        if (Sequence is { } seq)
        {
            json["seq"] = seq;
        }

        if (Ok is { } ok)
        {
            json["ok"] = ok;
        }

        if (Error is { } error)
        {
            json["error"] = error.ToJson();
        }

        if (Body is not null)
        {
            json["body"] = Body.DeepClone();
        }

        return json.ToJsonString();
    }

    public static Envelope Command(string type, string batch, string id, JsonObject? body = null) => new(type, batch) { Id = id, Body = body };

    public static Envelope Succeeded(Envelope command, JsonObject? body = null) =>
        new(MessageTypes.Reply, command.Batch) { Re = command.Id, Ok = true, Body = body };

    public static Envelope Failed(string batch, string? re, ProtocolError error) =>
        new(MessageTypes.Reply, batch) { Re = re, Ok = false, Error = error };

    private static void Add(JsonObject json, string name, string? value)
    {
        if (value is not null)
        {
            json[name] = value;
        }
    }
}

/// <summary>
/// A coded error: what a REPLY with <c>ok: false</c> carries, and a failed step's or execution's
/// error. <paramref name="Remedy"/> (what to do) is there when the one who failed knows it — an
/// equipment driver always does.
/// </summary>
public sealed record ProtocolError(string Code, string Message, string? Remedy = null)
{
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["code"] = Code, ["message"] = Message };
        if (Remedy is not null)
        {
            json["remedy"] = Remedy;
        }

        return json;
    }

    public override string ToString() => $"{Code}: {Message}";
}
