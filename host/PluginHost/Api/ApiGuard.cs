using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PluginHost.Api;

/// <summary>
/// What every request passes before it reaches a route:
/// <list type="bullet">
/// <item>Cross-origin requests are refused (CORS closed): a request whose <c>Origin</c> is not the
/// host itself gets 403, so a web page elsewhere can neither read the API nor fire a start/stop at it.</item>
/// <item>On a loopback bind, the Host header must name the loopback (blocks DNS rebinding).</item>
/// <item>With a token configured, every API request must present it — <c>Authorization: Bearer</c>,
/// or <c>?access_token=</c> on GETs (browsers' EventSource cannot set headers). Compared in constant
/// time. The dashboard's static files need none: they hold no data.</item>
/// </list>
/// </summary>
internal sealed class ApiGuard
{
    private readonly byte[]? _expected;
    private readonly bool _loopbackBind;

    public ApiGuard(string? token, bool loopbackBind)
    {
        // Hashed in their own methods: a host without a token never loads the crypto library (≈ 1 MB).
        _expected = token is null ? null : Hash(token);
        _loopbackBind = loopbackBind;
    }

    /// <summary>Lets the request through to <paramref name="next"/>, or answers it with the reason it is refused.</summary>
    public async Task HandleAsync(HttpContext http, RequestDelegate next)
    {
        var refusal = Check(http, _expected, _loopbackBind);
        if (refusal is null)
        {
            await next(http).ConfigureAwait(false);
            return;
        }

        if (refusal.Value.Status == StatusCodes.Status401Unauthorized)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"pluginhost\"";
        }

        await ApiProblem.Of(refusal.Value.Status, refusal.Value.Code, refusal.Value.Title, refusal.Value.Message, refusal.Value.Remedy)
            .ExecuteAsync(http).ConfigureAwait(false);
    }

    /// <summary>The API's limit on all request headers together (Kestrel's default).</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    /// <summary>The API's limit on the request target, path and query (Kestrel's default for the request line).</summary>
    public const int MaxTargetBytes = 8 * 1024;

    private static (int Status, string Code, string Title, string Message, string Remedy)? Check(HttpContext http, byte[]? expected, bool loopbackBind)
    {
        var request = http.Request;
        var headerBytes = request.Headers.Sum(h => h.Key.Length + 4 + h.Value.Sum(v => v?.Length ?? 0));
        if (headerBytes > MaxHeaderBytes)
        {
            return (StatusCodes.Status431RequestHeaderFieldsTooLarge, "HEADERS_TOO_LARGE", "Request headers too large",
                $"The request's headers take {headerBytes} bytes; the API accepts {MaxHeaderBytes}.", "Send fewer or shorter headers (a cookie jar for another site, perhaps).");
        }

        var targetBytes = (request.Path.Value?.Length ?? 0) + (request.QueryString.Value?.Length ?? 0);
        if (targetBytes > MaxTargetBytes)
        {
            return (StatusCodes.Status414UriTooLong, "URI_TOO_LONG", "Request target too long",
                $"The request's path and query take {targetBytes} characters; the API accepts {MaxTargetBytes}.", "No route of the API needs a longer one: check the URL.");
        }

        if (loopbackBind && !IsLoopbackHost(request.Host.Host))
        {
            return (StatusCodes.Status403Forbidden, "HOST_REFUSED", "Host not allowed",
                $"This host listens on the loopback only and does not answer for \"{request.Host.Host}\".",
                "Use http://127.0.0.1:PORT or http://localhost:PORT.");
        }

        if (request.Headers.Origin.FirstOrDefault() is { } origin && !SameOrigin(origin, request))
        {
            return (StatusCodes.Status403Forbidden, "CROSS_ORIGIN_REFUSED", "Cross-origin request refused",
                $"Requests from {origin} are not accepted: the API takes requests only from its own dashboard and from non-browser clients.",
                "Use the dashboard the host serves at /, the pluginhost CLI, or a script (which sends no Origin header).");
        }

        if (expected is null || IsPublic(request.Path))
        {
            return null;
        }

        var presented = Presented(request);
        if (presented is null)
        {
            return (StatusCodes.Status401Unauthorized, "TOKEN_REQUIRED", "Token required",
                "This host requires a bearer token and the request carried none.",
                "Send \"Authorization: Bearer <token>\" (the CLI reads PLUGINHOST_TOKEN, --token, or host.yaml api.tokenFile).");
        }

        return Matches(presented, expected)
            ? null
            : (StatusCodes.Status401Unauthorized, "TOKEN_INVALID", "Token invalid",
                "The bearer token does not match this host's.",
                "Use the token from the host's PLUGINHOST_TOKEN or its api.tokenFile.");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Compared in constant time, as hashes of equal length.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Matches(string presented, byte[] expected) => CryptographicOperations.FixedTimeEquals(Hash(presented), expected);

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.FirstOrDefault();
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return HttpMethods.IsGet(request.Method) ? request.Query["access_token"].FirstOrDefault() : null;
    }

    /// <summary>The dashboard's page and assets: static, no data.</summary>
    /// <summary>The dashboard's files and plugins' panel files hold no data: a browser loads them before it has a token.</summary>
    private static bool IsPublic(PathString path) =>
        path == "/" || path.StartsWithSegments("/dashboard", StringComparison.Ordinal)
        || (path.StartsWithSegments("/plugins", StringComparison.OrdinalIgnoreCase, out var rest) && rest.Value?.Split('/') is [_, _, "ui", ..]);

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
