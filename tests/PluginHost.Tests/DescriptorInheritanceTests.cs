using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>
/// Units outlive the host by design, so a descriptor one inherits by accident is held as long as it
/// runs. A host started with stray descriptors (a lock, a pipe, /dev/null at odd numbers) passes
/// none of them to a unit, an output holder, a pseudo-terminal session or a probe.
/// </summary>
public sealed class DescriptorInheritanceTests : IAsyncLifetime
{
    private static readonly int[] Stray = [7, 9, 251];
    private readonly HostUnderTest _test = new("fds");

    public Task InitializeAsync()
    {
        _test.CopyPlugins("pty-session", "process");
        _test.WriteHostYaml("../plugins");
        _test.Dir.Write("manifests/plain.yaml", $$"""
            apiVersion: pluginhost/v1
            kind: process
            name: plain
            health: { liveness: { exec: { command: /bin/bash, args: [-c, 'ls /proc/$$/fd > {{_test.Dir.Combine("probe-fds")}}'] }, interval: 100ms } }
            spec: { command: /bin/sleep, args: ['300'] }
            """);
        _test.Dir.Write("manifests/shell.yaml", "apiVersion: pluginhost/v1\nkind: pty-session\nname: shell\nspec: { command: /bin/sleep, args: ['300'] }\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    [Fact]
    public async Task No_child_of_the_host_holds_a_descriptor_the_host_inherited()
    {
        var lockFile = _test.Dir.Combine("parent.lock");
        var host = _test.Adopt(HostProcess.StartInheriting(_test.Dir.Path, $"7</dev/null 9>>{lockFile} 251</dev/null", _test.RunArguments()));
        await Eventually.TrueAsync(() => _test.UnitIs("plain", "ready") && _test.UnitIs("shell", "ready"), HostUnderTest.Deadline, "both units ready\n" + host.Output);
        await Eventually.TrueAsync(() => File.Exists(_test.Dir.Combine("probe-fds")), HostUnderTest.Deadline, "the probe to run");
        Assert.All(Stray, fd => Assert.True(File.Exists($"/proc/{host.Pid}/fd/{fd}"), $"the host did not inherit fd {fd}: the test proves nothing"));

        var plain = Pid("plain");
        var holder = PluginHost.Core.Processes.ProcStat.All().Single(p => p.ParentPid == host.Pid && Arguments(p.Pid).StartsWith("pluginhost-output-holder", StringComparison.Ordinal)).Pid;
        var children = new Dictionary<string, int[]>
        {
            ["unit"] = Descriptors(plain),
            ["output holder"] = Descriptors(holder),
            ["pty session"] = Descriptors(Pid("shell")),
        };

        Assert.Equal([0, 1, 2], children["unit"]);
        Assert.Equal([0, 1, 2, 3, 4], children["output holder"]);
        Assert.Equal([0, 1, 2], children["pty session"]);
        var probe = File.ReadAllLines(_test.Dir.Combine("probe-fds")).Select(int.Parse).ToArray();
        Assert.Empty(probe.Intersect(Stray));
        // At least the three strays (the test runner may pass one more of its own).
        var said = System.Text.RegularExpressions.Regex.Match(host.Output, @"(\d+) descriptor\(s\) inherited from the host's parent are kept from every unit");
        Assert.True(said.Success && int.Parse(said.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 3, host.Output);
    }

    private int Pid(string unit) => _test.Unit(unit)!.Value.GetProperty("pid").GetInt32();

    private static int[] Descriptors(int pid) => [.. Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(f => int.Parse(Path.GetFileName(f), System.Globalization.CultureInfo.InvariantCulture)).Order()];

    private static string Arguments(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
    }
}
