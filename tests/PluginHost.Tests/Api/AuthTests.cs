using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Api;

/// <summary>Binding beyond loopback: refused without a token; with one, every API request must carry it.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string Token = "0123456789abcdef0123456789abcdef";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("auth");
    private HostProcess? _host;

    public Task InitializeAsync()
    {
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("process"), _dir.Combine("plugins"));
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins: { directories: [../plugins], watch: false }\nmanifests: { watch: false }\n");
        _dir.Write("manifests/nap.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: nap\nspec: { command: /bin/sleep, args: ['300'] }\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Binding_beyond_loopback_without_a_token_is_refused_and_says_how_to_set_one()
    {
        var (code, output) = await HostProcess.RunAsync(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://0.0.0.0:{HostProcess.FreePort()}");

        Assert.Equal(3, code);
        Assert.Contains("refusing to listen on 0.0.0.0", output, StringComparison.Ordinal);
        Assert.Contains("PLUGINHOST_TOKEN", output, StringComparison.Ordinal);
        Assert.Contains("api: { tokenFile:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_name_to_listen_on_is_refused_with_the_addresses_that_work()
    {
        var (code, output) = await HostProcess.RunAsync(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://station-7.lab:{HostProcess.FreePort()}");

        Assert.Equal(2, code);
        Assert.Contains("\"station-7.lab\" is a host name", output, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1, ::1, 0.0.0.0", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_file_too_short_to_be_a_secret_is_refused_at_start()
    {
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\napi: { tokenFile: token.txt }\nplugins: { directories: [../plugins], watch: false }\n");
        _dir.Write("manifests/token.txt", "short\n");

        var (code, output) = await HostProcess.RunAsync(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://0.0.0.0:{HostProcess.FreePort()}");

        Assert.Equal(3, code);
        Assert.Contains("token.txt (host.yaml api.tokenFile) holds a token of 5 characters; a bearer token needs at least 16", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_token_every_API_request_must_present_it_and_the_dashboard_page_needs_none()
    {
        var port = HostProcess.FreePort();
        _host = HostProcess.Start(_dir.Path, new Dictionary<string, string> { ["PLUGINHOST_TOKEN"] = Token },
            "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://0.0.0.0:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Eventually.TrueAsync(() => Answers(http), Deadline, "the host to listen\n" + _host.Output);

        var none = await http.GetAsync("/api/units");
        var wrong = await SendAsync(http, HttpMethod.Post, "/api/units/nap/stop", "0123456789abcdef0123456789abcdeX");
        var right = await SendAsync(http, HttpMethod.Get, "/api/units", Token);
        var query = await http.GetAsync($"/api/units?access_token={Token}");
        var queryOnPost = await http.PostAsync($"/api/units/nap/stop?access_token={Token}", null);
        var metrics = await http.GetAsync("/metrics");
        var page = await http.GetAsync("/");
        var cliWithout = await HostProcess.RunAsync(_dir.Path, "status", "--url", $"http://127.0.0.1:{port}");
        var cliWith = await HostProcess.RunAsync(_dir.Path, "status", "--url", $"http://127.0.0.1:{port}", "--token", Token);
        var nap = (await (await SendAsync(http, HttpMethod.Get, "/api/units/nap", Token)).Content.ReadFromJsonAsync<JsonElement>());

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("TOKEN_REQUIRED", (await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("TOKEN_INVALID", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, queryOnPost.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("ready", nap.GetProperty("state").GetString()); // the refused stop did nothing
        Assert.Equal(1, cliWithout.ExitCode);
        Assert.Contains("TOKEN_REQUIRED", cliWithout.Output, StringComparison.Ordinal);
        Assert.True(cliWith.ExitCode == 0, cliWith.Output);
        Assert.Contains("nap", cliWith.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, _host.Output, StringComparison.Ordinal);
    }

    private static bool Answers(HttpClient http)
    {
        return http.GetAsync("/").Result.IsSuccessStatusCode;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }
}
