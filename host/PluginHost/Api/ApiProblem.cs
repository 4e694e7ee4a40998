using Microsoft.AspNetCore.Http;
using PluginHost.Contracts.Units;

namespace PluginHost.Api;

/// <summary>
/// Every API error: <c>application/problem+json</c> (RFC 9457: <c>title</c>, <c>status</c>,
/// <c>detail</c>) with a stable <c>code</c>, the <c>message</c>, and what to do (<c>remedy</c>).
/// </summary>
internal static class ApiProblem
{
    public const string ContentType = "application/problem+json; charset=utf-8";

    public static IResult Of(int status, string code, string title, string message, string remedy, IDictionary<string, object?>? extra = null) =>
        ApiReply.Json(Members(status, code, title, message, remedy, extra), status, ContentType);

    /// <summary>A problem's members: the RFC 9457 ones, then the API's code, message and remedy, then <paramref name="extra"/>.</summary>
    public static Dictionary<string, object?> Members(int status, string code, string title, string message, string remedy, IDictionary<string, object?>? extra = null)
    {
        var problem = new Dictionary<string, object?>
        {
            ["title"] = title,
            ["status"] = status,
            ["detail"] = message,
            ["code"] = code,
            ["message"] = message,
            ["remedy"] = remedy,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, object?>())
        {
            // The RFC's own members are not for extensions (a unit's status record once replaced "status").
            if (key is "title" or "status" or "detail" or "type" or "instance")
            {
                throw new ArgumentException($"\"{key}\" is an RFC 9457 member, not an extension", nameof(extra));
            }

            problem[key] = value;
        }

        return problem;
    }

    public static IResult From(UnitError error, int status, string title, IDictionary<string, object?>? extra = null) =>
        Of(status, error.Code, title, error.Message, error.Remedy, extra);

    public static IResult UnknownUnit(string name) => Of(StatusCodes.Status404NotFound, "UNIT_NOT_FOUND", "Unknown unit",
        $"There is no unit named \"{Shown(name)}\".", "GET /api/units lists the units (pluginhost status).");

    public static IResult InvalidName(string what, string name) => Of(StatusCodes.Status400BadRequest, "INVALID_NAME", $"Invalid {what} name",
        $"\"{Shown(name)}\" is not a valid {what} name.", what == "operation"
            ? "An operation name is a letter followed by up to 62 letters, digits, '-' or '_'."
            : $"A {what} name is 1–64 letters, digits, '.', '-' or '_', starting with a letter or digit.");

    /// <summary>Text from the request is echoed only cut short, so an error never reflects a large payload.</summary>
    public static string Shown(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
