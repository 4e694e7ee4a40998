using PluginHost.Core.Manifests;

namespace PluginHost.Api;

/// <summary>
/// The bearer token the API requires: <c>PLUGINHOST_TOKEN</c> from the environment, else the file
/// named by host.yaml <c>api.tokenFile</c>. None is fine on loopback; a wider bind without one is
/// refused at start.
/// </summary>
internal static class ApiToken
{
    public const string EnvironmentVariable = "PLUGINHOST_TOKEN";
    private const int MinimumLength = 16;
    private const int MaxFileBytes = 4096;

    /// <returns>The token (null when none is configured), or why the configured one cannot be used.</returns>
    public static (string? Token, string? Error) Resolve(HostManifest host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        string token;
        string source;
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            (token, source) = (fromEnvironment.Trim(), $"the {EnvironmentVariable} environment variable");
        }
        else if (host.ApiTokenFile is { } file)
        {
            source = $"the token file {file} (host.yaml api.tokenFile)";
            // A regular file only, read without blocking and up to a bound: /dev/zero or a FIFO here must not hang the start.
            var bytes = Core.IO.RegularFile.TryRead(file, MaxFileBytes, out var problem);
            if (bytes is null)
            {
                return (null, $"cannot use {source}: it is {problem}. Create it with a random secret, e.g. `openssl rand -hex 32 > {file}`, readable by the host only.");
            }

            token = System.Text.Encoding.UTF8.GetString(bytes).Trim();
        }
        else
        {
            return (null, null);
        }

        return token.Length < MinimumLength || token.Any(char.IsWhiteSpace)
            ? (null, $"{source} holds a token of {token.Length} characters; a bearer token needs at least {MinimumLength} and no spaces. Generate one with `openssl rand -hex 32`.")
            : (token, null);
    }
}
