using PluginHost.Contracts.Testing;
using PluginHost.Core.Events;
using PluginHost.Core.Manifests;
using PluginHost.Core.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

public sealed class ManifestWatcherTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly EventBus _bus = new();
    private readonly List<ManifestDiff> _applied = [];

    public void Dispose() => _dir.Dispose();

    private void Unit(string name, string command) =>
        _dir.Write(name + ".yaml", $"apiVersion: pluginhost/v1\nkind: worker\nname: {name}\nspec: {{ command: {command} }}\n");

    private ManifestWatcher Watcher(TimeSpan? debounce = null)
    {
        var initial = UnitSetLoader.Load(_dir.Path, new TestKinds());
        Assert.True(initial.Ok, string.Join("\n", initial.Problems));
        return new ManifestWatcher(_dir.Path, initial.Units!, new TestKinds(), _bus, TimeProvider.System, debounce,
            (diff, _, _) =>
            {
                lock (_applied)
                {
                    _applied.Add(diff);
                }

                return Task.CompletedTask;
            },
            NullLogger<ManifestWatcher>.Instance);
    }

    [Fact]
    public async Task A_valid_edit_applies_exactly_its_diff()
    {
        Unit("a", "/bin/a");
        Unit("b", "/bin/b");
        using var watcher = Watcher();

        Unit("b", "/bin/changed");
        Unit("c", "/bin/c");
        File.Delete(_dir.Combine("a.yaml"));
        var reload = await watcher.ReloadAsync(CancellationToken.None);

        Assert.False(reload.Rejected);
        var diff = Assert.Single(_applied);
        Assert.Equal((["c"], ["a"], ["b"]), (diff.Added.Select(u => u.Name).ToArray(), diff.Removed.Select(u => u.Name).ToArray(), diff.Changed.Select(u => u.Name).ToArray()), new DiffComparer());
        Assert.Equal(["b", "c"], watcher.Current.Units.Keys.Order(StringComparer.Ordinal));
        Assert.Contains(_bus.Recent(), e => e.Kind == HostEventKinds.ManifestApplied);
    }

    [Fact]
    public async Task A_broken_edit_is_rejected_and_the_last_good_configuration_stays()
    {
        Unit("a", "/bin/a");
        using var watcher = Watcher();
        var before = watcher.Current;

        _dir.Write("a.yaml", "apiVersion: pluginhost/v1\nkind: worker\nname: a\nspec: { command: /bin/new, extra: 1 }\n");
        Unit("b", "/bin/b");
        var reload = await watcher.ReloadAsync(CancellationToken.None);

        Assert.True(reload.Rejected);
        Assert.Contains(reload.Problems, p => p.Path == "spec.extra" && p.Line == 4);
        Assert.Same(before, watcher.Current);
        Assert.Empty(_applied);
        var rejected = Assert.Single(_bus.Recent(), e => e.Kind == HostEventKinds.ManifestRejected);
        Assert.Contains("spec.extra", rejected.Payload.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Editing_a_file_on_disk_is_noticed_after_the_quiet_period()
    {
        Unit("a", "/bin/a");
        using var watcher = Watcher(TimeSpan.FromMilliseconds(50));

        Unit("a", "/bin/edited");

        await Eventually.TrueAsync(() =>
        {
            lock (_applied)
            {
                return _applied.Count > 0;
            }
        }, TimeSpan.FromSeconds(10), "the edit to be applied");
        Assert.Equal(["a"], _applied[0].Changed.Select(u => u.Name));
    }

    private sealed class DiffComparer : IEqualityComparer<(string[], string[], string[])>
    {
        public bool Equals((string[], string[], string[]) x, (string[], string[], string[]) y) =>
            x.Item1.SequenceEqual(y.Item1) && x.Item2.SequenceEqual(y.Item2) && x.Item3.SequenceEqual(y.Item3);

        public int GetHashCode((string[], string[], string[]) obj) => 0;
    }
}
