using System.CommandLine;
using PluginHost.Api;
using PluginHost.Core.Manifests;

namespace PluginHost.Cli.Client;

/// <summary>
/// Where the client finds a running host and its token: flags first (<c>--url</c>, <c>--token</c>),
/// then the environment (<c>PLUGINHOST_URL</c>, <c>PLUGINHOST_TOKEN</c>), then host.yaml in the
/// manifests folder (api.bind, api.port, api.tokenFile), then http://127.0.0.1:7171.
/// </summary>
internal sealed record HostAddress(Uri Url, string? Token)
{
    public const string UrlVariable = "PLUGINHOST_URL";

    public static readonly Option<Uri?> UrlOption = new("--url")
    {
        Description = $"The running host, e.g. http://127.0.0.1:7171 (default: {UrlVariable}, else host.yaml api, else http://127.0.0.1:7171).",
        Recursive = true,
        CustomParser = HttpUrl.Parse,
    };

    public static readonly Option<string?> TokenOption = new("--token")
    {
        Description = $"The API's bearer token (default: {ApiToken.EnvironmentVariable}, else host.yaml api.tokenFile).",
        Recursive = true,
    };

    public static HostAddress Resolve(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var manifests = parse.GetValue(CommandLine.Manifests)!.FullName;
        var (host, _) = Directory.Exists(manifests) ? HostManifestReader.ReadDirectory(manifests) : (null, []);

        var url = parse.GetValue(UrlOption)
            ?? (Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnvironment && Uri.TryCreate(fromEnvironment, UriKind.Absolute, out var parsed) ? parsed : null)
            ?? new Uri($"http://{Bracketed(ConnectTo(host?.ApiBind ?? HostManifest.DefaultBind))}:{host?.ApiPort ?? HostManifest.DefaultPort}");

        var token = parse.GetValue(TokenOption)
            ?? (Environment.GetEnvironmentVariable(ApiToken.EnvironmentVariable) is { Length: > 0 } envToken ? envToken.Trim() : null)
            ?? (host?.ApiTokenFile is { } file && Core.IO.RegularFile.TryRead(file, 4096, out _) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes).Trim() : null);
        return new HostAddress(url, token);
    }

    /// <summary>A host bound to every address is reached through the loopback.</summary>
    private static string ConnectTo(string bind) => bind switch
    {
        "0.0.0.0" or "*" or "+" => "127.0.0.1",
        "::" => "::1",
        _ => bind,
    };

    private static string Bracketed(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
}
