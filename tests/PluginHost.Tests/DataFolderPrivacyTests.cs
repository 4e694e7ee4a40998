using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>What the host keeps on disk is its user's alone, and a secret of a manifest is never among it.</summary>
public sealed class DataFolderPrivacyTests : IAsyncLifetime
{
    private const string Secret = "s3cret-token-7f3a9c";
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly HostUnderTest _test = new("privacy");

    public Task InitializeAsync()
    {
        _test.WriteHostYaml();
        _test.Dir.Write("manifests/keyed.yaml", $"apiVersion: pluginhost/v1\nkind: process\nname: keyed\nenv: {{ API_KEY: {Secret} }}\nspec: {{ command: /bin/bash, args: [-c, 'echo started; exec sleep 300'] }}\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    [Fact]
    public async Task Data_files_are_0600_folders_0700_and_no_file_holds_a_secret_env_value()
    {
        var host = _test.Start();
        await Eventually.TrueAsync(() => _test.UnitIs("keyed", "ready"), HostUnderTest.Deadline, "keyed ready\n" + host.Output);
        host.Terminate();
        Assert.Equal(0, await host.WaitForExitAsync(HostUnderTest.Deadline));

        var data = _test.Dir.Combine("data");
        var folders = Directory.GetDirectories(data, "*", SearchOption.AllDirectories).Append(data).ToArray();
        var files = Directory.GetFiles(data, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("journal.db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("keyed.log", StringComparison.Ordinal));
        Assert.All(folders, f => Assert.True(File.GetUnixFileMode(f) == Folder, $"{f} is {File.GetUnixFileMode(f)}"));
        Assert.All(files, f => Assert.True((File.GetUnixFileMode(f) & ~Folder) == 0, $"{f} is {File.GetUnixFileMode(f)}"));
        Assert.All(files.Where(f => !f.Contains("plugins-shadow", StringComparison.Ordinal)),
            f => Assert.True(File.GetUnixFileMode(f) == File600, $"{f} is {File.GetUnixFileMode(f)}"));
        Assert.All(files, f => Assert.DoesNotContain(Secret, System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f)), StringComparison.Ordinal));
    }
}
