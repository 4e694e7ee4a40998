using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>
/// The data folder's disk fills up under a running host: supervision goes on, output is dropped
/// whole lines at a time and counted, and everything catches up by itself once space returns.
/// </summary>
public sealed partial class DiskFullTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = HostUnderTest.Deadline;
    private readonly HostUnderTest _test = new("disk-full");
    private SmallDisk? _disk;

    private TempDirectory Dir => _test.Dir;

    public Task InitializeAsync()
    {
        _test.WriteHostYaml(watchManifests: true);

        // Each process notes its line numbers outside the small disk: lost lines at the end of a
        // process's output are holes no later line in the file reveals.
        Directory.CreateDirectory(Dir.Combine("counts"));
        Dir.Write("manifests/chatty.yaml", $$"""
            apiVersion: pluginhost/v1
            kind: process
            name: chatty
            restart: always
            spec:
              command: /bin/bash
              args: [-c, 'i=0; while true; do i=$((i+1)); echo "line $$ $i"; echo $i >> {{Dir.Combine("counts")}}/$$; sleep 0.002; done']
            """);
        Dir.Write("manifests/quiet.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: quiet\nspec: { command: /bin/sleep, args: ['3001'] }\n");
        _disk = SmallDisk.Mount(Dir.Combine("data"), megabytes: 8);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _test.DisposeAsync(); // hosts first: the disk is unmounted under no one
        _disk?.Dispose();
    }

    private async Task<HostProcess> StartHostAsync()
    {
        var host = _test.Start();
        await Eventually.TrueAsync(() => _test.UnitIs("chatty", "ready"), Deadline, "chatty to be ready\n" + host.Output);
        return host;
    }

    private JsonElement? Unit(string name) => _test.Unit(name);

    private JsonElement Health() => _test.Http.GetFromJsonAsync<JsonElement>("/api/health").Result;

    private int LastLine() => _test.Http.GetFromJsonAsync<JsonElement>("/api/units/chatty/logs?tail=1").Result.EnumerateArray()
        .Select(l => int.Parse(l.GetProperty("text").GetString()!.Split(' ')[2], CultureInfo.InvariantCulture)).LastOrDefault();

    private JsonElement[] Events(string kind) => _test.Events(kind);

    [Fact]
    public async Task A_full_disk_is_an_alert_supervision_goes_on_and_everything_catches_up_when_space_returns()
    {
        var first = await StartHostAsync();
        var quiet = Unit("quiet")!.Value.GetProperty("pid").GetInt32();
        _disk!.Fill("filler");

        // Told, with the code, the folder and what to do.
        await Eventually.TrueAsync(() => Health().GetProperty("status").GetString() == "degraded", Deadline, "the host to report the full disk\n" + first.Output);
        var alert = Health().GetProperty("alerts").EnumerateArray().First(a => a.GetProperty("component").GetString() == "unit chatty's log");
        Assert.Equal("DISK_FULL", alert.GetProperty("code").GetString());
        Assert.Contains(_disk.Path, alert.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("Free space", alert.GetProperty("remedy").GetString(), StringComparison.Ordinal);
        Assert.Contains(Events("storage_failed"), e => e.GetProperty("payload").GetProperty("code").GetString() == "DISK_FULL");
        Assert.Contains("[DISK_FULL]", first.Output, StringComparison.Ordinal);

        // The unit is never blocked on its output: it goes on writing, and the tail goes on showing it.
        var before = LastLine();
        await Eventually.TrueAsync(() => LastLine() >= before + 200, Deadline, "chatty to keep writing with the disk full");

        // Control works: restart, removal of a unit, addition of one.
        var oldPid = Unit("chatty")!.Value.GetProperty("pid").GetInt32();
        using (var restart = await _test.Http.PostAsync("/api/units/chatty/restart", null))
        {
            Assert.True(restart.IsSuccessStatusCode, await restart.Content.ReadAsStringAsync());
        }

        await Eventually.TrueAsync(() => Unit("chatty") is { } u && u.GetProperty("state").GetString() == "ready" && u.GetProperty("pid").GetInt32() != oldPid,
            Deadline, "chatty to restart with the disk full");
        File.Delete(Dir.Combine("manifests", "quiet.yaml"));
        Dir.Write("manifests/added.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: added\nspec: { command: /bin/sleep, args: ['3002'] }\n");
        await Eventually.TrueAsync(() => Unit("quiet") is null && !Liveness.IsAlive(quiet), Deadline, "the removed unit to stop with the disk full\n" + first.Output);
        await Eventually.TrueAsync(() => Unit("added") is { } u && u.GetProperty("state").GetString() == "ready" && u.GetProperty("pid").ValueKind == JsonValueKind.Number,
            Deadline, "the added unit to run with the disk full\n" + first.Output);

        // Space returns: every writer catches up by itself, saying what it lost.
        File.Delete(Path.Combine(_disk.Path, "filler"));
        await Eventually.TrueAsync(() => Health().GetProperty("status").GetString() == "ok", Deadline, "every alert to clear\n" + Health());
        Assert.Contains(Events("storage_recovered"), e => e.GetProperty("payload").GetProperty("component").GetString() == "unit chatty's log");
        var lost = Events("storage_recovered").Single(e => e.GetProperty("payload").GetProperty("component").GetString() == "the journal");
        Assert.StartsWith("nothing", lost.GetProperty("payload").GetProperty("lost").GetString(), StringComparison.Ordinal);

        // The journal caught up: a host crash now re-attaches to the process started while the disk was full.
        var restarted = Unit("chatty")!.Value.GetProperty("pid").GetInt32();
        var resumed = LastLine();
        await Eventually.TrueAsync(() => LastLine() >= resumed + 100, Deadline, "more lines after the recovery");
        var notWritten = Metric("pluginhost_unit_log_lines_not_written_total", "chatty");
        first.Crash();
        await first.WaitForExitAsync(Deadline);
        var second = await StartHostAsync();
        Assert.Equal(restarted, Unit("chatty")!.Value.GetProperty("pid").GetInt32());
        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(Deadline));

        // The file holds whole lines only, and says where lines are missing and how many: exactly the holes.
        var lines = File.ReadAllLines(Dir.Combine("data", "logs", "chatty.log"));
        Assert.All(lines, l => Assert.Matches(LogLine(), l));
        var missing = lines.Select(l => MissingMarker().Match(l)).Where(m => m.Success).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        var written = lines.Select(l => OutputLine().Match(l)).Where(m => m.Success)
            .GroupBy(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => (Count: g.LongCount(), Max: g.Max()));
        var holes = Directory.GetFiles(Dir.Combine("counts")).Sum(f =>
        {
            // Appended (one write each), so a process killed at any moment leaves whole numbers.
            var last = File.ReadAllLines(f).Where(l => l.Length > 0).Max(l => long.Parse(l, CultureInfo.InvariantCulture));
            var (count, max) = written.GetValueOrDefault(Path.GetFileName(f));
            return Math.Max(last, max) - count;
        });
        Assert.True(missing > 0, "no lines were reported missing: did the disk fill?");
        Assert.Equal(missing, holes);
        Assert.Equal(missing, notWritten);
    }

    private double Metric(string family, string unit)
    {
        var text = _test.Http.GetStringAsync("/metrics").Result;
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith($"{family}{{unit=\"{unit}\"}} ", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (out|err|host) (line \d+ \d+|\[pluginhost\] \d+ line\(s\) missing here: .*)$")]
    private static partial Regex LogLine();

    [GeneratedRegex(@" host \[pluginhost\] (\d+) line\(s\) missing here")]
    private static partial Regex MissingMarker();

    [GeneratedRegex(@" out line (\d+) (\d+)$")]
    private static partial Regex OutputLine();
}
