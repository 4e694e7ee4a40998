using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Units;

namespace PluginHost.Contracts.Web;

/// <summary>What a plugin's route answers (since 1.5): a status, a content type and the body.</summary>
public sealed record PluginResponse(int Status, string ContentType, ReadOnlyMemory<byte> Body)
{
    public const string JsonType = "application/json; charset=utf-8";

    public static PluginResponse Json(JsonNode? body, int status = 200) => new(status, JsonType, Encoding.UTF8.GetBytes(body?.ToJsonString() ?? "null"));

    public static PluginResponse Json(JsonElement body, int status = 200) => new(status, JsonType, Encoding.UTF8.GetBytes(body.GetRawText()));

    public static PluginResponse Text(string body, int status = 200) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(body));

    /// <summary>An error the host writes as application/problem+json, with the code, message and remedy, like its own.</summary>
    public static PluginResponse Problem(int status, UnitError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(status, ProblemType, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["title"] = error.Code,
            ["status"] = status,
            ["detail"] = error.Message,
            ["code"] = error.Code,
            ["message"] = error.Message,
            ["remedy"] = error.Remedy,
        }.ToJsonString()));
    }

    public const string ProblemType = "application/problem+json; charset=utf-8";
}
