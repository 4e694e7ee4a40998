using Microsoft.AspNetCore.Http;

namespace PluginHost.Api;

/// <summary>
/// The web dashboard: three static files embedded in the host (no front-end build step), served
/// at <c>/</c> and <c>/dashboard/*</c>. Everything it shows comes from the API and the event stream.
/// </summary>
internal static class Dashboard
{
    private static readonly Dictionary<string, (string Resource, string ContentType)> Files = new(StringComparer.Ordinal)
    {
        ["index.html"] = ("PluginHost.Dashboard.index.html", "text/html; charset=utf-8"),
        ["app.js"] = ("PluginHost.Dashboard.app.js", "text/javascript; charset=utf-8"),
        ["app.css"] = ("PluginHost.Dashboard.app.css", "text/css; charset=utf-8"),
    };

    public static void Map(ApiRoutes routes)
    {
        routes.MapGet("/", (http, _) => Serve(http, "index.html"));
        routes.MapGet("/dashboard/{file}", (http, route) => Serve(http, route["file"]));
    }

    private static IResult Serve(HttpContext http, string file)
    {
        if (!Files.TryGetValue(file, out var entry))
        {
            return ApiProblem.Of(StatusCodes.Status404NotFound, "NOT_FOUND", "No such file",
                $"The dashboard has no file {ApiProblem.Shown(file)}.", "Open the dashboard at /.");
        }

        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Content-Type-Options"] = "nosniff";
        http.Response.Headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
        return ApiReply.File(() => typeof(Dashboard).Assembly.GetManifestResourceStream(entry.Resource)
            ?? throw new InvalidOperationException($"the dashboard file {file} is not embedded in the host"), entry.ContentType);
    }
}
