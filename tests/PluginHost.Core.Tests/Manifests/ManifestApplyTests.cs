using PluginHost.Contracts.Testing;
using PluginHost.Core.Events;
using PluginHost.Core.Tests.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

/// <summary>
/// A manifest edit is applied whole or not at all: when one unit of it cannot be set up, no unit of
/// it starts, the running set stays the last good one, and the failure is an event with a code.
/// </summary>
public sealed class ManifestApplyTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task An_edit_whose_unit_cannot_be_set_up_starts_nothing_however_often_it_is_saved()
    {
        var initial = await _engine.RunAsync(UnitYaml.Bash("keep", "exec sleep 300"));
        using var watcher = _engine.Watcher(initial);
        var blocker = Path.Combine(_engine.Data, "units", "blocked");
        File.WriteAllText(blocker, "a plain file where the unit's data folder belongs");
        var marker = $"30{Random.Shared.Next(1000, 9999)}";
        _engine.WriteFiles(UnitYaml.Bash("blocked", "exec sleep 300"), UnitYaml.Bash("aaa", $"exec sleep {marker}", "restart: always"));

        for (var save = 0; save < 5; save++)
        {
            var reload = await watcher.ReloadAsync(CancellationToken.None);

            Assert.True(reload.Rejected);
            Assert.Equal("UNIT_DATA_UNAVAILABLE", reload.Failure?.Code);
            Assert.Contains(blocker, reload.Failure!.Message, StringComparison.Ordinal);
        }

        Assert.Same(initial, watcher.Current);
        Assert.Null(_engine.Supervisor.Find("aaa"));
        Assert.Null(_engine.Supervisor.Find("blocked"));
        Assert.Empty(EngineFixture.ProcessesWithArgument(marker));
        var failures = _engine.Events.Recent().Where(e => e.Kind == HostEventKinds.ManifestApplyFailed).ToArray();
        Assert.Equal(5, failures.Length);
        Assert.All(failures, e => Assert.Equal("UNIT_DATA_UNAVAILABLE", e.Payload.GetProperty("code").GetString()));

        // The operator clears the way: the same edit now applies, and one process runs per unit.
        File.Delete(blocker);
        var applied = await watcher.ReloadAsync(CancellationToken.None);

        Assert.False(applied.Rejected);
        await _engine.WaitForStateAsync("aaa", "ready");
        await _engine.WaitForStateAsync("blocked", "ready");
        Assert.Single(EngineFixture.ProcessesWithArgument(marker));
    }

    [Fact]
    public async Task A_failed_apply_seen_by_the_folder_watch_is_reported_not_lost()
    {
        var initial = await _engine.RunAsync(UnitYaml.Bash("keep", "exec sleep 300"));
        using var watcher = _engine.Watcher(initial, debounce: TimeSpan.FromMilliseconds(50));
        File.WriteAllText(Path.Combine(_engine.Data, "units", "blocked"), "");

        _engine.WriteFiles(UnitYaml.Bash("blocked", "exec sleep 300"));

        await Eventually.TrueAsync(() => _engine.Events.Recent().Any(e => e.Kind == HostEventKinds.ManifestApplyFailed), EngineFixture.Deadline,
            "the failed apply to be published");
        Assert.Same(initial, watcher.Current);
        Assert.Null(_engine.Supervisor.Find("blocked"));
    }

    [Fact]
    public async Task A_fixed_edit_is_announced_even_when_it_restores_what_runs()
    {
        var initial = await _engine.RunAsync(UnitYaml.Bash("keep", "exec sleep 300"));
        using var watcher = _engine.Watcher(initial);
        var good = File.ReadAllText(Path.Combine(_engine.Dir, "keep.yaml"));
        File.WriteAllText(Path.Combine(_engine.Dir, "keep.yaml"), good + "bogus: 1\n");
        Assert.True((await watcher.ReloadAsync(CancellationToken.None)).Rejected);

        File.WriteAllText(Path.Combine(_engine.Dir, "keep.yaml"), good);
        var fixedEdit = await watcher.ReloadAsync(CancellationToken.None);

        Assert.False(fixedEdit.Rejected);
        var accepted = _engine.Events.Recent().Last(e => e.Kind.StartsWith("manifest_", StringComparison.Ordinal));
        Assert.Equal(HostEventKinds.ManifestApplied, accepted.Kind);
        Assert.True(accepted.Payload.GetProperty("recovered").GetBoolean());
    }

    [Fact]
    public async Task A_changed_unit_stops_for_being_changed()
    {
        var initial = await _engine.RunAsync(UnitYaml.Bash("change", "exec sleep 300"));
        await _engine.WaitForStateAsync("change", "ready");
        using var watcher = _engine.Watcher(initial);

        _engine.WriteFiles(UnitYaml.Bash("change", "exec sleep 301"));
        await watcher.ReloadAsync(CancellationToken.None);

        var transitions = _engine.Journal.Transitions("change");
        Assert.Contains(transitions, t => t is { From: "stopping", To: "stopped" } && t.Reason.Contains("manifest changed", StringComparison.Ordinal));
    }
}
