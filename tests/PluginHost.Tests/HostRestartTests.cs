using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>kill -9 of the host: its units keep running, and a new host re-attaches without losing a line.</summary>
public sealed partial class HostRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("host-restart");
    private readonly HttpClient _http = new();
    private readonly List<HostProcess> _hosts = [];
    private int _port;

    public Task InitializeAsync()
    {
        _dir.Write("manifests/host.yaml", $"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{RepositoryLayout.Plugin("")}'], watch: false }}\n");
        _dir.Write("manifests/ticker.yaml", """
            apiVersion: pluginhost/v1
            kind: process
            name: ticker
            spec:
              command: /bin/bash
              args: [-c, 'i=0; while true; do i=$((i+1)); echo "tick $i"; echo $i > count; sleep 0.05; done']
              outputEvents: ticker-line
            """);
        _port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{_port}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        _http.Dispose();
        _dir.Dispose();
    }

    private async Task<HostProcess> StartHostAsync()
    {
        var host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{_port}");
        _hosts.Add(host);
        await Eventually.TrueAsync(() => Ticker() is { } t && t.GetProperty("state").GetString() == "ready", Deadline, "the ticker to be ready\n" + host.Output);
        return host;
    }

    private JsonElement? Ticker()
    {
        return _http.GetFromJsonAsync<JsonElement>("/api/units/ticker").Result;
    }

    private int LastTick() => _http.GetFromJsonAsync<JsonElement>("/api/units/ticker/logs?tail=1").Result.EnumerateArray()
        .Select(l => int.Parse(l.GetProperty("text").GetString()!["tick ".Length..], CultureInfo.InvariantCulture)).LastOrDefault();

    [Fact]
    public async Task After_kill_9_of_the_host_a_new_host_adopts_the_same_process_and_no_line_is_lost()
    {
        var first = await StartHostAsync();
        var pid = Ticker()!.Value.GetProperty("pid").GetInt32();
        await Eventually.TrueAsync(() => LastTick() >= 10, Deadline, "some ticks");

        first.Crash();
        await first.WaitForExitAsync(Deadline);

        // While no host runs, the unit goes on writing: its lines must wait in the pipe.
        var atCrash = Count();
        await Eventually.TrueAsync(() => Count() >= atCrash + 20, Deadline, "the unit to write 20 lines with no host");
        Assert.True(Liveness.IsAlive(pid), "the unit died while no host was running");

        var second = await StartHostAsync();
        var adopted = Ticker()!.Value;
        Assert.Equal(pid, adopted.GetProperty("pid").GetInt32());
        Assert.Equal(0, adopted.GetProperty("restarts").GetInt32());
        var resumedAt = LastTick();
        await Eventually.TrueAsync(() => LastTick() >= resumedAt + 10, Deadline, "ticks after the re-attach");
        // The output events the plan asked for (recorded in the journal) go on after the re-attach too.
        var lineEvents = (await _http.GetFromJsonAsync<JsonElement>("/api/events/recent?unit=ticker")).EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "ticker-line").Select(e => e.GetProperty("payload").GetProperty("line").GetString()!).ToArray();

        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(Deadline));
        Assert.False(Liveness.IsAlive(pid), "the unit outlived a clean host stop");

        var ticks = File.ReadLines(_dir.Combine("data", "logs", "ticker.log"))
            .Select(l => TickPattern().Match(l)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(1, ticks.Length), ticks);
        Assert.True(ticks.Length > atCrash + 20, $"{ticks.Length} ticks captured");
        Assert.Contains("re-attached to pid", second.Output, StringComparison.Ordinal);
        Assert.Contains($"tick {resumedAt + 5}", lineEvents);
    }

    [Fact]
    public async Task A_unit_whose_manifest_changed_while_the_host_was_down_is_not_adopted_but_replaced()
    {
        var first = await StartHostAsync();
        var pid = Ticker()!.Value.GetProperty("pid").GetInt32();
        var holders = HoldersOf(first.Pid);
        Assert.NotEmpty(holders);
        first.Crash();
        await first.WaitForExitAsync(Deadline);
        var path = _dir.Combine("manifests", "ticker.yaml");
        File.WriteAllText(path, File.ReadAllText(path).Replace("sleep 0.05", "sleep 0.1", StringComparison.Ordinal));

        await StartHostAsync();

        Assert.NotEqual(pid, Ticker()!.Value.GetProperty("pid").GetInt32());
        Assert.False(Liveness.IsAlive(pid), "the old process was left running beside the new one");
        Assert.All(holders, h => Assert.False(Liveness.IsAlive(h), $"output holder {h} of the old process was left behind"));
    }

    [Fact]
    public async Task A_killed_output_holder_is_replaced_so_a_later_host_crash_still_loses_nothing()
    {
        var first = await StartHostAsync();
        var pid = Ticker()!.Value.GetProperty("pid").GetInt32();
        var holder = Assert.Single(HoldersOf(first.Pid));
        var pipe = PipeOf(pid, 1);
        Assert.Equal(pipe, PipeOf(holder, 3));

        PluginHost.Core.Processes.LibC.kill(holder, 9);
        await Eventually.TrueAsync(() => Events("output_holder_replaced").Length > 0, Deadline, "the holder to be replaced\n" + first.Output);
        var replaced = Events("output_holder_replaced")[0].GetProperty("payload");
        var replacement = replaced.GetProperty("replacement").GetInt32();
        Assert.Equal(holder, replaced.GetProperty("pid").GetInt32());
        Assert.Equal(pipe, PipeOf(replacement, 3)); // the same pipe, held by the new holder
        Assert.Contains("its output holder (pid", first.Output, StringComparison.Ordinal);

        first.Crash();
        await first.WaitForExitAsync(Deadline);
        var atCrash = Count();
        await Eventually.TrueAsync(() => Count() >= atCrash + 20, Deadline, "the unit to write 20 lines with no host");
        Assert.True(Liveness.IsAlive(pid), "the unit died while no host was running (SIGPIPE: nothing held its pipe)");
        var second = await StartHostAsync();
        Assert.Equal(pid, Ticker()!.Value.GetProperty("pid").GetInt32());
        var resumedAt = LastTick();
        await Eventually.TrueAsync(() => LastTick() >= resumedAt + 5, Deadline, "ticks after the re-attach");
        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(Deadline));

        var ticks = File.ReadLines(_dir.Combine("data", "logs", "ticker.log"))
            .Select(l => TickPattern().Match(l)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(1, ticks.Length), ticks);
    }

    private JsonElement[] Events(string kind) => [.. _http.GetFromJsonAsync<JsonElement>("/api/events/recent").Result.EnumerateArray()
        .Where(e => e.GetProperty("kind").GetString() == kind)];

    private static string PipeOf(int pid, int fd) => new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget ?? "";

    /// <summary>The output holders a host started (its children named pluginhost-output-holder).</summary>
    private static int[] HoldersOf(int hostPid) => [.. PluginHost.Core.Processes.ProcStat.All()
        .Where(p => p.ParentPid == hostPid && SafeRead($"/proc/{p.Pid}/cmdline").StartsWith("pluginhost-output-holder", StringComparison.Ordinal))
        .Select(p => p.Pid)];

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private int Count() => int.TryParse(File.ReadAllText(_dir.Combine("data", "units", "ticker", "count")).Trim(), CultureInfo.InvariantCulture, out var n) ? n : 0;


    [GeneratedRegex(@" out tick (\d+)$")]
    private static partial Regex TickPattern();
}
