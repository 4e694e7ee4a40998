using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

public sealed class CliTests : IDisposable
{
    private readonly TempDirectory _dir = new("cli");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Validate_accepts_the_default_manifests()
    {
        var (code, output) = await HostProcess.RunAsync(RepositoryLayout.Root, "validate", "manifests");

        Assert.True(code == 0, output);
        Assert.Contains("valid (4 units, 6 plugin(s) loaded)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_prints_every_problem_with_its_position_and_exits_1()
    {
        _dir.Write("m/host.yaml", $"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{RepositoryLayout.Plugin("")}'] }}\n");
        _dir.Write("m/a.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: a\nrestart: sometimes\nspec: { command: /bin/true }\n");
        _dir.Write("m/b.yaml", "apiVersion: pluginhost/v1\nkind: proces\nname: b\n");

        var (code, output) = await HostProcess.RunAsync(_dir.Path, "validate", "m");

        Assert.Equal(1, code);
        Assert.Contains("m/a.yaml:4:10: restart: found \"sometimes\"; expected one of always, on-failure, never", output, StringComparison.Ordinal);
        Assert.Contains("m/b.yaml:2:7: kind: found kind \"proces\", which no loaded plugin provides (did you mean \"process\"?); expected one of launchd-service, process", output, StringComparison.Ordinal);
        Assert.Contains("2 problems.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plugins_lists_name_version_contracts_kinds_and_state()
    {
        var (code, output) = await HostProcess.RunAsync(RepositoryLayout.Root, "plugins");

        Assert.True(code == 0, output);
        Assert.Contains("process", output, StringComparison.Ordinal);
        Assert.Contains("1.0.0", output, StringComparison.Ordinal);
        Assert.Contains("loaded", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_command_line_exits_2()
    {
        var (code, output) = await HostProcess.RunAsync(_dir.Path, "frobnicate");

        Assert.Equal(2, code);
        Assert.Contains("pluginhost --help", output, StringComparison.Ordinal);
    }
}
