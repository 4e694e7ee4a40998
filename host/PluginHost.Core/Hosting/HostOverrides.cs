using PluginHost.Core.Manifests;

namespace PluginHost.Core.Hosting;

/// <summary>Command-line choices; each one set overrides host.yaml, so several hosts can run side by side.</summary>
internal sealed record HostOverrides(string ManifestsDirectory, string? DataDirectory = null, Uri? Url = null)
{
    public HostManifest Apply(HostManifest host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (DataDirectory is not null)
        {
            host = host with { DataDirectory = Path.GetFullPath(DataDirectory) };
        }

        if (Url is not null)
        {
            host = host with { ApiBind = HostManifest.NormalizeBind(Url.Host), ApiPort = Url.Port };
        }

        return host;
    }
}
