using Microsoft.AspNetCore.Http;

namespace PluginHost.Api;

/// <summary>
/// The API's route table: a method and a path template (<c>/api/units/{name}/ops/{op}</c>) per
/// handler. Literal segments match case-insensitively, a <c>{parameter}</c> matches one non-empty
/// segment (as Kestrel decoded it: an encoded <c>/</c> stays <c>%2F</c>, so a value never spans
/// segments); a last <c>{*rest}</c> matches whatever follows, none or many segments, joined by
/// <c>/</c>. A path that no route has is a <c>NOT_FOUND</c> problem; a known path asked with
/// another method is <c>METHOD_NOT_ALLOWED</c> with an <c>Allow</c> header.
/// </summary>
internal sealed class ApiRoutes
{
    private readonly List<Route> _routes = [];

    public void MapGet(string template, Func<HttpContext, RouteValues, IResult> handler) =>
        Add(HttpMethods.Get, template, (http, route) => Task.FromResult(handler(http, route)));

    public void MapGet(string template, Func<HttpContext, RouteValues, Task<IResult>> handler) => Add(HttpMethods.Get, template, handler);

    public void MapPost(string template, Func<HttpContext, RouteValues, IResult> handler) =>
        Add(HttpMethods.Post, template, (http, route) => Task.FromResult(handler(http, route)));

    public void MapPost(string template, Func<HttpContext, RouteValues, Task<IResult>> handler) => Add(HttpMethods.Post, template, handler);

    /// <summary>Any method (a plugin's routes decide what each path takes).</summary>
    public void MapAny(string template, Func<HttpContext, RouteValues, Task<IResult>> handler) => Add(AnyMethod, template, handler);

    private const string AnyMethod = "*";

    /// <summary>Asked for a path no route has (a plugin's mount, say) before it is a NOT_FOUND: an answer, or null.</summary>
    public Func<HttpContext, string, Task<IResult?>>? Fallback { get; set; }

    public async Task DispatchAsync(HttpContext http)
    {
        var path = http.Request.Path.Value is { Length: > 1 } value ? value.TrimEnd('/') : "/";
        var segments = Segments(path);
        List<string>? allowed = null;
        foreach (var route in _routes)
        {
            if (!route.TryMatch(segments, out var values))
            {
                continue;
            }

            if (route.Method != AnyMethod && !HttpMethods.Equals(route.Method, http.Request.Method))
            {
                (allowed ??= []).Add(route.Method);
                continue;
            }

            IResult result;
            try
            {
                result = await route.Handler(http, values).ConfigureAwait(false);
            }
            catch (InvalidQueryException ex)
            {
                result = ex.Problem;
            }

            await result.ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        if (allowed is not null)
        {
            http.Response.Headers.Allow = string.Join(", ", allowed);
            await ApiProblem.Of(StatusCodes.Status405MethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed",
                $"{path} does not take {ApiProblem.Shown(http.Request.Method)}.", $"Use {string.Join(" or ", allowed)} (docs/api.md).").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        if (Fallback is not null && await Fallback(http, path).ConfigureAwait(false) is { } answer)
        {
            await answer.ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        await ApiProblem.Of(StatusCodes.Status404NotFound, "NOT_FOUND", "No such route",
            $"There is no route {ApiProblem.Shown(path)}.", "See docs/api.md for the routes.").ExecuteAsync(http).ConfigureAwait(false);
    }

    private void Add(string method, string template, Func<HttpContext, RouteValues, Task<IResult>> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(template);
        _routes.Add(new Route(method, Segments(template), handler));
    }

    /// <summary><c>/</c> → none, <c>/api/units</c> → <c>api</c>, <c>units</c>.</summary>
    private static string[] Segments(string path) => path == "/" ? [] : path.Split('/')[1..];

    private sealed record Route(string Method, string[] Template, Func<HttpContext, RouteValues, Task<IResult>> Handler)
    {
        public bool TryMatch(string[] segments, out RouteValues values)
        {
            values = RouteValues.None;
            var rest = Template.Length > 0 && Template[^1].StartsWith("{*", StringComparison.Ordinal);
            var fixedLength = rest ? Template.Length - 1 : Template.Length;
            if (rest ? segments.Length < fixedLength : segments.Length != Template.Length)
            {
                return false;
            }

            Dictionary<string, string>? captured = null;
            if (rest)
            {
                (captured ??= new(StringComparer.Ordinal))[Template[^1][2..^1]] = string.Join('/', segments[fixedLength..]);
            }

            for (var i = 0; i < fixedLength; i++)
            {
                var part = Template[i];
                if (part.StartsWith('{'))
                {
                    if (segments[i].Length == 0)
                    {
                        return false;
                    }

                    (captured ??= new(StringComparer.Ordinal))[part[1..^1]] = segments[i];
                }
                else if (!part.Equals(segments[i], StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }

            values = captured is null ? RouteValues.None : new RouteValues(captured);
            return true;
        }
    }
}
