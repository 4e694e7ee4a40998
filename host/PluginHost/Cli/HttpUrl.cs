using System.CommandLine.Parsing;

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
}
