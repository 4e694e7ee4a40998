using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>The README's run command, as a newcomer runs it: the default manifests come up healthy whatever the machine has.</summary>
public sealed class DefaultManifestsTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new("defaults");
    private readonly HttpClient _http = new();
    private HostProcess? _host;

    public Task InitializeAsync() => Task.CompletedTask;

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
    public async Task No_default_unit_fails_and_one_whose_requirement_is_missing_says_what_to_install()
    {
        var port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _host = HostProcess.Start(RepositoryLayout.Root, "run", "--data", _dir.Combine("data"), "--urls", $"http://127.0.0.1:{port}");

        // Settled: nothing on its way anywhere.
        var units = await Eventually.WaitAsync(() => Settled(), Deadline, "the default units to settle\n" + _host.Output);

        Assert.Equal(["heartbeat", "hello-api", "llm"], units.Keys.Order(StringComparer.Ordinal));
        Assert.All(units.Values, u => Assert.NotEqual("failed", u.GetProperty("state").GetString()));
        Assert.Equal("ready", units["heartbeat"].GetProperty("state").GetString());
        Assert.Equal("idle", units["llm"].GetProperty("state").GetString()); // on demand
        var api = units["hello-api"];
        if (api.GetProperty("state").GetString() == "stopped")
        {
            // A machine without uvicorn: the sample waits, saying why and what to install.
            Assert.Equal("UVICORN_NOT_FOUND", api.GetProperty("lastError").GetProperty("code").GetString());
            Assert.Contains("apt install python3-uvicorn python3-fastapi", api.GetProperty("lastError").GetProperty("remedy").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("ready", api.GetProperty("state").GetString());
        }
    }

    private Dictionary<string, JsonElement>? Settled()
    {
        try
        {
            var units = _http.GetFromJsonAsync<JsonElement>("/api/units").Result.EnumerateArray().ToDictionary(u => u.GetProperty("name").GetString()!);
            return units.Count > 0 && units.Values.All(u => u.GetProperty("state").GetString() is "ready" or "idle" or "stopped" or "failed") ? units : null;
        }
        catch (AggregateException)
        {
            return null;
        }
    }
}
