using PluginHost.Contracts.Testing;
using PluginHost.Core.Manifests;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

public sealed class HostManifestReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Relative_paths_start_at_the_manifests_folder()
    {
        _dir.Write("manifests/host.yaml", """
            apiVersion: pluginhost/v1
            api: { bind: 127.0.0.1, port: 9999 }
            dataDir: ../state
            plugins: { directories: [../plugins, /opt/more], watch: false, debounce: 1s }
            manifests: { watch: false }
            logs: { level: debug }
            """);

        var (host, problems) = HostManifestReader.ReadDirectory(_dir.Combine("manifests"));

        Assert.Empty(problems);
        Assert.Equal(9999, host!.ApiPort);
        Assert.Equal(_dir.Combine("state"), host.DataDirectory);
        Assert.Equal([_dir.Combine("plugins"), "/opt/more"], host.PluginDirectories);
        Assert.False(host.WatchPlugins);
        Assert.False(host.WatchManifests);
        Assert.Equal(TimeSpan.FromSeconds(1), host.PluginReloadDebounce);
        Assert.Equal("debug", host.LogLevel);
    }

    [Fact]
    public void No_host_yaml_means_every_default()
    {
        Directory.CreateDirectory(_dir.Combine("manifests"));

        var (host, problems) = HostManifestReader.ReadDirectory(_dir.Combine("manifests"));

        Assert.Empty(problems);
        Assert.Equal(HostManifest.DefaultPort, host!.ApiPort);
        Assert.Equal(_dir.Combine("data"), host.DataDirectory);
    }

    [Fact]
    public void Unknown_keys_and_bad_values_are_all_reported()
    {
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\napi: { port: http }\npluginz: {}\nlogs: { level: loud }\n");

        var (host, problems) = HostManifestReader.ReadDirectory(_dir.Combine("manifests"));

        Assert.Null(host);
        Assert.Equal(["api.port", "logs.level", "pluginz"], problems.Select(p => p.Path).Order(StringComparer.Ordinal));
        Assert.All(problems, p => Assert.EndsWith("host.yaml", p.File, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("::1")]
    [InlineData("[::1]")]
    [InlineData("0.0.0.0")]
    public void The_api_binds_to_an_IP_address_or_localhost(string bind)
    {
        _dir.Write("manifests/host.yaml", $"apiVersion: pluginhost/v1\napi: {{ bind: \"{bind}\" }}\n");

        var (host, problems) = HostManifestReader.ReadDirectory(_dir.Combine("manifests"));

        Assert.Empty(problems);
        Assert.Equal(bind, host!.ApiBind);
    }

    [Fact]
    public void A_host_name_as_the_api_bind_is_refused_where_it_is_written()
    {
        // Kestrel would listen on every interface for a name it cannot bind to: say so instead.
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\napi:\n  port: 7200\n  bind: station-7.lab\n");

        var (host, problems) = HostManifestReader.ReadDirectory(_dir.Combine("manifests"));

        Assert.Null(host);
        var problem = Assert.Single(problems);
        Assert.Equal(("api.bind", 4, 9), (problem.Path, problem.Line, problem.Column));
        Assert.Contains("station-7.lab", problem.Found, StringComparison.Ordinal);
        Assert.Contains("IP address", problem.Expected, StringComparison.Ordinal);
    }

    [Fact]
    public void Plugin_mounts_are_a_prefix_or_off_and_anything_else_is_refused_where_it_is_written()
    {
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins:\n  mounts: { station-batch: /station, other: off }\n");
        var (good, none) = HostManifestReader.ReadDirectory(_dir.Combine("manifests"));
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins:\n  mounts: { station-batch: station/ }\n");

        var (bad, problems) = HostManifestReader.ReadDirectory(_dir.Combine("manifests"));

        Assert.Empty(none);
        Assert.Equal(new Dictionary<string, string> { ["station-batch"] = "/station", ["other"] = "off" }, good!.PluginMounts);
        Assert.Null(bad);
        var problem = Assert.Single(problems);
        Assert.Equal(("plugins.mounts", 3), (problem.Path, problem.Line));
        Assert.Contains("station/", problem.Found, StringComparison.Ordinal);
    }
}
