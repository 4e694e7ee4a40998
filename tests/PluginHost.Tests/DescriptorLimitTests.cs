using System.Text.Json;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Tests;

/// <summary>
/// More units than the host has descriptors for: each running unit holds about five, so enough of
/// them take the host's last ones. The host keeps a reserve for itself — it goes on answering, reading
/// /proc and stopping cleanly — and the starts it refuses say why and what to do; nothing it started
/// is left behind. (Without the reserve, the usage sampler's next scan of /proc failed with EMFILE
/// and the host died, leaving its units and output holders to run on unsupervised.)
/// </summary>
public sealed class DescriptorLimitTests : IAsyncLifetime
{
    /// <summary>Far below what 100 units need (the host itself holds about 120, each running unit 3 more: its pipes and its pidfd; its log while it writes).</summary>
    private const int Limit = 400;
    private const int Units = 100;
    private readonly HostUnderTest _test = new("fd-limit");
    private readonly HashSet<(int Pid, long Start)> _started = [];

    public Task InitializeAsync()
    {
        _test.WriteHostYaml();
        for (var i = 0; i < Units; i++)
        {
            _test.Dir.Write($"manifests/u{i}.yaml", $"apiVersion: pluginhost/v1\nkind: process\nname: u{i}\nspec: {{ command: /bin/sleep, args: ['300'] }}\n");
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _test.DisposeAsync();

        // Should the host have died (as it did before the reserve), what it started would run on: killed here.
        foreach (var (pid, _) in _started.Where(p => Alive(p)))
        {
            LibC.kill(pid, LibC.SIGKILL);
        }
    }

    [Fact]
    public async Task Out_of_descriptors_the_host_refuses_starts_with_a_remedy_keeps_answering_and_leaves_nothing_behind()
    {
        var host = _test.Adopt(HostProcess.StartWithDescriptorLimit(_test.Dir.Path, Limit, _test.RunArguments()));
        JsonElement[] units = [];
        await Eventually.TrueAsync(() =>
        {
            _started.UnionWith(Children(host.Pid));
            units = AllUnits();
            return units.Length == Units && units.All(u => State(u) == "ready" || Refused(u));
        }, HostUnderTest.Deadline, "every unit started or refused for want of descriptors\n" + host.Output);
        var ready = units.Where(u => State(u) == "ready").Select(u => u.GetProperty("name").GetString()!).ToArray();
        var refused = units.First(Refused);

        // A pass of the usage sampler over /proc, with the host at its reserve: a running unit's memory is measured.
        await Eventually.TrueAsync(() => _test.Unit(ready[0]) is { } u && u.GetProperty("rssBytes").ValueKind == JsonValueKind.Number,
            HostUnderTest.Deadline, "the usage sampler to measure a running unit\n" + host.Output);
        _started.UnionWith(Children(host.Pid));
        host.Terminate();
        var code = await host.WaitForExitAsync(HostUnderTest.Deadline);

        Assert.InRange(ready.Length, 1, Units - 1);
        var message = refused.GetProperty("lastError").GetProperty("message").GetString()!;
        Assert.Contains($"the host is out of file descriptors: its limit is {Limit}", message, StringComparison.Ordinal);
        Assert.Contains("raise the host's limit (ulimit -n before it starts, LimitNOFILE= in its systemd unit)", message, StringComparison.Ordinal);
        Assert.Equal(0, code);
        Assert.DoesNotContain("Unhandled exception", host.Output, StringComparison.Ordinal);
        Assert.True(_started.Count >= 2 * ready.Length, $"{_started.Count} children seen for {ready.Length} running units and their holders");
        Assert.All(_started, p => Assert.False(Alive(p), $"pid {p.Pid} outlived the host"));
    }

    private JsonElement[] AllUnits()
    {
        using var response = _test.Http.GetAsync("/api/units").Result;
        return [.. JsonDocument.Parse(response.Content.ReadAsStringAsync().Result).RootElement.EnumerateArray()];
    }

    private static string? State(JsonElement unit) => unit.GetProperty("state").GetString();

    private static bool Refused(JsonElement unit) =>
        unit.GetProperty("lastError") is { ValueKind: JsonValueKind.Object } error && error.GetProperty("message").GetString()!.Contains("out of file descriptors", StringComparison.Ordinal);

    private static bool Alive((int Pid, long Start) process) => ProcStat.Read(process.Pid) is { IsZombie: false } s && s.StartTimeTicks == process.Start;

    /// <summary>Every process the host started (its units and their output holders are its children).</summary>
    private static IEnumerable<(int, long)> Children(int host) => ProcStat.All().Where(p => p.ParentPid == host).Select(p => (p.Pid, p.StartTimeTicks));
}
