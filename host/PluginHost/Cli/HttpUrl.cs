using System.CommandLine.Parsing;
using PluginHost.Core.Manifests;

namespace PluginHost.Cli;

/// <summary>Parses an <c>http://host:port</c> option value, with an error that shows the expected form.</summary>
internal static class HttpUrl
{
    public static Uri? Parse(ArgumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.Tokens.Single().Value;
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp)
        {
            return uri;
        }

        result.AddError($"{(result.Parent as OptionResult)?.Option.Name ?? "url"}: \"{text}\" is not an http:// address such as http://127.0.0.1:7171");
        return null;
    }

    /// <summary>As <see cref="Parse"/>, for where to listen: the host must be an IP address or <c>localhost</c>.</summary>
    public static Uri? ParseListenAddress(ArgumentResult result)
    {
        var uri = Parse(result);
        if (uri is null || HostManifest.IsValidBind(uri.Host))
        {
            return uri;
        }

        result.AddError($"{(result.Parent as OptionResult)?.Option.Name ?? "url"}: \"{uri.Host}\" is a host name; give the address to listen on — an IP address (127.0.0.1, ::1, 0.0.0.0) or localhost");
        return null;
    }
}
