using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>The README's run command, as a newcomer runs it: the default manifests come up healthy whatever the machine has.</summary>
public sealed class DefaultManifestsTests : IAsyncLifetime
{
    private readonly HostUnderTest _test = new("defaults");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _test.DisposeAsync();

    [Fact]
    public async Task No_default_unit_fails_and_one_whose_requirement_is_missing_says_what_to_install()
    {
        // The repository's own manifests folder, with a data folder and port of the test's.
        var host = _test.Adopt(HostProcess.Start(RepositoryLayout.Root, "run", "--data", _test.Dir.Combine("data"), "--urls", $"http://127.0.0.1:{_test.Port}"));

        // Settled: nothing on its way anywhere.
        var units = await Eventually.WaitAsync(() => Settled(), TimeSpan.FromSeconds(60), "the default units to settle\n" + host.Output);

        Assert.Equal(["heartbeat", "hello-api", "llm", "station-line1"], units.Keys.Order(StringComparer.Ordinal));
        Assert.All(units.Values, u => Assert.NotEqual("failed", u.GetProperty("state").GetString()));
        Assert.Equal("ready", units["heartbeat"].GetProperty("state").GetString());
        Assert.Equal("idle", units["llm"].GetProperty("state").GetString()); // on demand
        Assert.Equal("ready", units["station-line1"].GetProperty("state").GetString()); // simulated instruments: nothing to attach
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
        var units = _test.Http.GetFromJsonAsync<JsonElement>("/api/units").Result.EnumerateArray().ToDictionary(u => u.GetProperty("name").GetString()!);
        return units.Count > 0 && units.Values.All(u => u.GetProperty("state").GetString() is "ready" or "idle" or "stopped" or "failed") ? units : null;
    }
}
