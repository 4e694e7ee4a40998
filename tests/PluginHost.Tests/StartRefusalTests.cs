using System.Diagnostics;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>
/// `pluginhost run` and `validate` given something an unlucky operator or an attacker left behind:
/// each is refused at once with exit 3 (run) or 1 (validate), a message naming what and where, and
/// never a hang or a stack trace.
/// </summary>
public sealed class StartRefusalTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = HostUnderTest.Deadline;
    private readonly HostUnderTest _test = new("refusal");

    private TempDirectory Dir => _test.Dir;

    public Task InitializeAsync()
    {
        _test.WriteHostYaml();
        Dir.Write("manifests/hello.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: hello\nspec: { command: /bin/sleep, args: ['60'] }\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    private async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var host = _test.Adopt(HostProcess.Start(Dir.Path, args));
        var code = await host.WaitForExitAsync(Deadline);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
        return (code, host.Output);
    }

    private Task<(int Code, string Output)> RunHostAsync() => RunAsync(_test.RunArguments());

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Fact]
    public async Task A_fifo_in_the_manifests_folder_is_a_problem_for_validate_and_run_not_a_hang()
    {
        MakeFifo(Dir.Combine("manifests", "fifo.yaml"));

        var (validateCode, validateOutput) = await RunAsync("validate", "manifests");
        var (runCode, runOutput) = await RunHostAsync();

        Assert.Equal(1, validateCode);
        Assert.Contains("manifests/fifo.yaml: found a FIFO (named pipe), not a regular file", validateOutput, StringComparison.Ordinal);
        Assert.Equal(3, runCode);
        Assert.Contains("manifests/fifo.yaml: found a FIFO (named pipe), not a regular file", runOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_file_that_is_a_device_refuses_the_start_at_once()
    {
        Dir.Write("manifests/host.yaml", $"apiVersion: pluginhost/v1\napi: {{ tokenFile: /dev/zero }}\nplugins: {{ directories: ['{RepositoryLayout.Plugin("")}'], watch: false }}\n");

        var (code, output) = await RunHostAsync();

        Assert.Equal(3, code);
        Assert.Contains("cannot use the token file /dev/zero (host.yaml api.tokenFile): it is a character device, not a regular file", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_host_on_the_same_data_folder_refuses_naming_the_first_and_touches_nothing()
    {
        var first = _test.Start();
        var pid = await Eventually.WaitAsync(() => HelloPid(), Deadline, "hello to run under the first host\n" + first.Output);
        var shadows = Directory.GetDirectories(Dir.Combine("data", "plugins-shadow"));

        var (code, output) = await RunAsync("run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{HostProcess.FreePort()}");

        Assert.Equal(3, code);
        Assert.Contains($"is in use by another host (pid {first.Pid}, API http://127.0.0.1:{_test.Port}", output, StringComparison.Ordinal);
        Assert.Contains("--data DIR", output, StringComparison.Ordinal);
        Assert.True(Liveness.IsAlive(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture)), "the first host's unit was stopped by the second");
        Assert.Equal(pid, HelloPid());
        Assert.Equal(shadows, Directory.GetDirectories(Dir.Combine("data", "plugins-shadow")));
    }

    private string? HelloPid() => _test.Unit("hello") is { } unit && unit.GetProperty("state").GetString() == "ready"
        ? unit.GetProperty("pid").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)
        : null;

    [Fact]
    public async Task An_IPv4_address_written_as_IPv6_is_listened_on_as_IPv4()
    {
        var host = _test.Adopt(HostProcess.Start(Dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://[::ffff:127.0.0.1]:{_test.Port}"));

        await Eventually.TrueAsync(() => HelloPid() is not null, Deadline, "the host to serve on 127.0.0.1\n" + host.Output);
        Assert.Contains($"listening on http://127.0.0.1:{_test.Port}", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_address_this_machine_does_not_have_refuses_the_start_with_exit_3_and_no_stack_trace()
    {
        var host = _test.Adopt(HostProcess.Start(Dir.Path, new Dictionary<string, string> { ["PLUGINHOST_TOKEN"] = "0123456789abcdef0123456789abcdef" },
            "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://[2001:db8::1]:{_test.Port}"));

        var code = await host.WaitForExitAsync(Deadline);

        Assert.Equal(3, code);
        Assert.Contains($"cannot listen on http://[2001:db8::1]:{_test.Port}", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_unit_whose_data_folder_cannot_be_made_refuses_the_start_with_its_code()
    {
        Dir.Write("data/units/hello", "a plain file where the unit's data folder belongs");

        var (code, output) = await RunHostAsync();

        Assert.Equal(3, code);
        Assert.Contains("[UNIT_DATA_UNAVAILABLE] Unit hello cannot be set up", output, StringComparison.Ordinal);
        Assert.Contains("Move or remove", output, StringComparison.Ordinal);
    }
}
