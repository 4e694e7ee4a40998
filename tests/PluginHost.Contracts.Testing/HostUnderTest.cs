using System.Net.Http.Json;
using System.Text.Json;
namespace PluginHost.Contracts.Testing;

/// <summary>
/// A folder of its own (manifests/, data/), a free API port and a client for it, and the real hosts
/// a test starts there: the one composition of an end-to-end test. Every host is stopped at the end.
/// </summary>
public sealed class HostUnderTest : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<HostProcess> _hosts = [];

    public HostUnderTest(string name)
    {
        Dir = new TempDirectory(name);
        Port = HostProcess.FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
    }

    public TempDirectory Dir { get; }

    public int Port { get; }

    public HttpClient Http { get; }

    /// <summary>
    /// manifests/host.yaml as the tests' hosts use it: plugins from <paramref name="plugins"/> (the
    /// built ones by default, or a folder of copies such as "../plugins"), not watched unless asked,
    /// and <paramref name="extra"/> sections.
    /// </summary>
    public void WriteHostYaml(string? plugins = null, bool watchPlugins = false, bool watchManifests = false, string extra = "") =>
        Dir.Write("manifests/host.yaml", $"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{plugins ?? RepositoryLayout.Plugin("")}'], watch: {(watchPlugins ? "true" : "false")} }}\n"
            + $"manifests: {{ watch: {(watchManifests ? "true, debounce: 100ms" : "false")} }}\n{extra}");

    /// <summary>Copies built plugins (real ones by name, test ones as "test:NAME") into this folder's plugins/, for a host.yaml of "../plugins".</summary>
    public void CopyPlugins(params string[] names)
    {
        foreach (var name in names)
        {
            RepositoryLayout.CopyPlugin(name.StartsWith("test:", StringComparison.Ordinal) ? RepositoryLayout.TestPlugin(name[5..]) : RepositoryLayout.Plugin(name), Dir.Combine("plugins"));
        }
    }

    /// <summary>The arguments of `run` on this folder and port, followed by <paramref name="extra"/>.</summary>
    public string[] RunArguments(params string[] extra) =>
        ["run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{Port}", .. extra];

    /// <summary>A host started here, stopped when the test ends.</summary>
    public HostProcess Adopt(HostProcess host)
    {
        _hosts.Add(host);
        return host;
    }

    public HostProcess Start(params string[] extra) => Adopt(HostProcess.Start(Dir.Path, RunArguments(extra)));

    /// <summary>A unit's status record; null when the host has no such unit (a host that does not answer throws: waits report it).</summary>
    public JsonElement? Unit(string name)
    {
        using var response = Http.GetAsync($"/api/units/{name}").Result;
        return response.IsSuccessStatusCode ? response.Content.ReadFromJsonAsync<JsonElement>().Result : null;
    }

    /// <summary>Whether the unit is in <paramref name="state"/> now.</summary>
    public bool UnitIs(string name, string state) => Unit(name) is { } unit && unit.GetProperty("state").GetString() == state;

    /// <summary>The recent events of a kind, as the API keeps them.</summary>
    public JsonElement[] Events(string kind) => [.. Http.GetFromJsonAsync<JsonElement>("/api/events/recent").Result.EnumerateArray()
        .Where(e => e.GetProperty("kind").GetString() == kind)];

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        Http.Dispose();
        Dir.Dispose();
    }
}
