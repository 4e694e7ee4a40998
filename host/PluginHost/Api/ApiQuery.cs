using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace PluginHost.Api;

/// <summary>
/// Typed query-string parameters. A value that is not of the parameter's type, or a parameter given
/// more than once, is refused with a 400 <c>INVALID_QUERY</c> problem naming it — never silently ignored.
/// </summary>
internal static class ApiQuery
{
    public static string? String(HttpContext http, string name)
    {
        var values = http.Request.Query[name];
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw new InvalidQueryException(name, $"?{name} is given {values.Count} times.", "Give it once."),
        };
    }

    public static int? Int(HttpContext http, string name) => String(http, name) is not { } text ? null
        : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value
        : throw new InvalidQueryException(name, $"?{name}={ApiProblem.Shown(text)} is not a whole number.", $"Give {name} as a number, e.g. ?{name}=100.");

    /// <summary>A count: a whole number, 0 or more.</summary>
    public static int? Count(HttpContext http, string name) => Int(http, name) is not { } value ? null
        : value >= 0 ? value
        : throw new InvalidQueryException(name, $"?{name}={value} is negative.", $"Give {name} as 0 or more, e.g. ?{name}=100.");

    public static bool? Bool(HttpContext http, string name) => String(http, name) is not { } text ? null
        : bool.TryParse(text, out var value) ? value
        : throw new InvalidQueryException(name, $"?{name}={ApiProblem.Shown(text)} is not true or false.", $"Give {name} as true or false.");
}

/// <summary>A query parameter that cannot be used; <see cref="ApiRoutes"/> answers with <see cref="Problem"/>.</summary>
internal sealed class InvalidQueryException(string parameter, string message, string remedy) : Exception(message)
{
    public IResult Problem { get; } = ApiProblem.Of(StatusCodes.Status400BadRequest, "INVALID_QUERY", $"Invalid query parameter {parameter}", message, remedy);
}
