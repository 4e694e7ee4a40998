using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>
/// The host's resident memory is part of its job (docs/benchmarks.md, "Memory, honestly"): each
/// library below cost ≈ 0.5–2 MB resident and was removed from the idle host's path on purpose.
/// This keeps them out: a host with every real plugin, serving the API, maps none of them.
/// </summary>
public sealed class HostFootprintTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly string[] NotLoaded =
    [
        "System.Net.Http.dll", // http probes and model downloads make their client at first use
        "System.Security.Cryptography.dll", // only with an API token
        "System.Reflection.Metadata.dll", // the contracts check reads the loaded assembly's references
        "System.Collections.Immutable.dll", // catalog and supervisor publish plain dictionaries
        "System.Data.Common.dll", // journals on SQLitePCLRaw, not ADO.NET
        "System.ComponentModel.TypeConverter.dll",
        "Microsoft.Extensions.Hosting.dll", // the API is Kestrel alone
        "Microsoft.Extensions.DependencyInjection.dll",
        "Microsoft.AspNetCore.Routing.dll",
        "Microsoft.AspNetCore.Http.Results.dll",
        "System.Linq.Expressions.dll",
        "System.Diagnostics.Process.dll", // /api/health reads /proc/self/stat
    ];

    private readonly TempDirectory _dir = new("footprint");
    private readonly HttpClient _http = new();
    private HostProcess? _host;

    public Task InitializeAsync()
    {
        foreach (var plugin in new[] { "process", "python-server", "shimmy", "pty-session" })
        {
            RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin(plugin), _dir.Combine("plugins"));
        }

        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins: { directories: [../plugins], watch: false }\nmanifests: { watch: false }\n");
        _dir.Write("manifests/hello.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: hello\nspec: { command: /bin/sleep, args: ['60'] }\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _http.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task An_idle_host_with_every_real_plugin_serving_its_API_maps_none_of_the_libraries_it_has_no_use_for()
    {
        var port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{port}");
        await Eventually.TrueAsync(() => Ready(), Deadline, "hello ready\n" + _host.Output);

        // What a dashboard and a monitor ask of an idle host.
        foreach (var path in new[] { "/api/health", "/api/units", "/api/units/hello", "/api/plugins", "/api/events/recent", "/metrics", "/" })
        {
            (await _http.GetAsync(path)).EnsureSuccessStatusCode();
        }

        var mapped = File.ReadAllLines($"/proc/{_host.Pid}/maps").Select(line => Path.GetFileName(line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last())).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("Microsoft.AspNetCore.Server.Kestrel.Core.dll", mapped); // the maps are read right
        Assert.Contains("PluginHost.Plugins.Shimmy.dll", mapped);
        var loaded = NotLoaded.Intersect(mapped).ToArray();
        Assert.True(loaded.Length == 0, "mapped, though the idle host has no use for them: " + string.Join(", ", loaded));
    }

    private bool Ready()
    {
        return _http.GetFromJsonAsync<JsonElement>("/api/units/hello").Result.GetProperty("state").GetString() == "ready";
    }
}
