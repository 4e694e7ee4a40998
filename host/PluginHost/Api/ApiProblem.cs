using Microsoft.AspNetCore.Http;
using PluginHost.Contracts.Units;

namespace PluginHost.Api;

/// <summary>Every API error: <c>application/problem+json</c> with a stable <c>code</c>, the message, and what to do.</summary>
internal static class ApiProblem
{
    public static IResult Of(int status, string code, string title, string message, string remedy, IDictionary<string, object?>? extra = null)
    {
        var extensions = new Dictionary<string, object?>(extra ?? new Dictionary<string, object?>())
        {
            ["code"] = code,
            ["message"] = message,
            ["remedy"] = remedy,
        };
        return Results.Problem(title: title, detail: message, statusCode: status, extensions: extensions);
    }

    public static IResult From(UnitError error, int status, string title, IDictionary<string, object?>? extra = null) =>
        Of(status, error.Code, title, error.Message, error.Remedy, extra);

    public static IResult UnknownUnit(string name) => Of(StatusCodes.Status404NotFound, "UNIT_NOT_FOUND", "Unknown unit",
        $"There is no unit named \"{Shown(name)}\".", "GET /api/units lists the units (pluginhost status).");

    public static IResult InvalidName(string what, string name) => Of(StatusCodes.Status400BadRequest, "INVALID_NAME", $"Invalid {what} name",
        $"\"{Shown(name)}\" is not a valid {what} name.", what == "operation"
            ? "An operation name is a letter followed by up to 62 letters, digits, '-' or '_'."
            : $"A {what} name is 1–64 letters, digits, '.', '-' or '_', starting with a letter or digit.");

    /// <summary>Names from the URL are echoed only cut short, so an error never reflects a large payload.</summary>
    private static string Shown(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
