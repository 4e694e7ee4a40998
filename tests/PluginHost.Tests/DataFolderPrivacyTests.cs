using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>What the host keeps on disk is its user's alone, and a secret of a manifest is never among it.</summary>
public sealed class DataFolderPrivacyTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private const string Secret = "s3cret-token-7f3a9c";
    private readonly TempDirectory _dir = new("privacy");
    private readonly HttpClient _http = new();
    private HostProcess? _host;

    public Task InitializeAsync()
    {
        _dir.Write("manifests/host.yaml", $"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{RepositoryLayout.Plugin("")}'], watch: false }}\n");
        _dir.Write("manifests/keyed.yaml", $"apiVersion: pluginhost/v1\nkind: process\nname: keyed\nenv: {{ API_KEY: {Secret} }}\nspec: {{ command: /bin/bash, args: [-c, 'echo started; exec sleep 300'] }}\n");
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
    public async Task Data_files_are_0600_folders_0700_and_no_file_holds_a_secret_env_value()
    {
        var port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{port}");
        await Eventually.TrueAsync(() => Ready(), Deadline, "keyed ready\n" + _host.Output);
        _host.Terminate();
        Assert.Equal(0, await _host.WaitForExitAsync(Deadline));

        var data = _dir.Combine("data");
        var folders = Directory.GetDirectories(data, "*", SearchOption.AllDirectories).Append(data).ToArray();
        var files = Directory.GetFiles(data, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("journal.db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("keyed.log", StringComparison.Ordinal));
        Assert.All(folders, f => Assert.True(File.GetUnixFileMode(f) == (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute), $"{f} is {File.GetUnixFileMode(f)}"));
        Assert.All(files, f => Assert.True((File.GetUnixFileMode(f) & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)) == 0, $"{f} is {File.GetUnixFileMode(f)}"));
        Assert.All(files.Where(f => !f.Contains("plugins-shadow", StringComparison.Ordinal)),
            f => Assert.True(File.GetUnixFileMode(f) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{f} is {File.GetUnixFileMode(f)}"));
        Assert.All(files, f => Assert.DoesNotContain(Secret, System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f)), StringComparison.Ordinal));
    }

    private bool Ready()
    {
        try
        {
            return _http.GetFromJsonAsync<JsonElement>("/api/units/keyed").Result.GetProperty("state").GetString() == "ready";
        }
        catch (AggregateException)
        {
            return false;
        }
    }
}
