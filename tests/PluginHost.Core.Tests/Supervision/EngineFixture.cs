using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Events;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Hosting;
using PluginHost.Core.Logs;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Processes;
using PluginHost.Core.Storage;
using PluginHost.Core.Supervision;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>A real engine over the real process plugin, in a temp data folder; every unit is stopped at the end.</summary>
internal sealed class EngineFixture : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _temp;
    private UnitSet? _running;

    private readonly Engine _engine;

    private EngineFixture(TempDirectory temp, PluginCatalog plugins, Engine engine, EventBus events)
    {
        _temp = temp;
        _engine = engine;
        Plugins = plugins;
        Events = events;
    }

    public PluginCatalog Plugins { get; }

    public Supervisor Supervisor => _engine.Supervisor;

    public EventBus Events { get; }

    public Journal Journal => _engine.Journal;

    public string Data => _temp.Combine("data");

    public string Dir => _temp.Combine("manifests");

    /// <summary>Where the catalog keeps its shadow copies of loaded plugins.</summary>
    public string ShadowRoot => _temp.Combine("shadow");

    /// <summary>A plugin's folder in the engine's plugins folder, where a test puts a new build of it.</summary>
    public string PluginFolder(string name) => _temp.Combine("plugins", name);

    /// <param name="random">The engine's source of jitter; a test may poison it to make the host itself fail.</param>
    public static async Task<EngineFixture> StartAsync(LogSettings? logs = null, int recentEvents = 5000, TimeProvider? time = null, Func<double>? random = null, TimeSpan? stopDeadline = null, TimeSpan? quietLogInterval = null)
    {
        var clock = time ?? TimeProvider.System;
        var temp = new TempDirectory("engine");
        var events = new EventBus(recentEvents);
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("process"), temp.Combine("plugins"));
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("sample"), temp.Combine("plugins"));
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("pty-session"), temp.Combine("plugins"));
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("launchd-service"), temp.Combine("plugins"));
        var plugins = new PluginCatalog(temp.Combine("shadow"), events, TimeProvider.System, NullLogger<PluginCatalog>.Instance);
        await plugins.LoadDirectoriesAsync([temp.Combine("plugins")], CancellationToken.None);
        // The host's own composition (Engine.Create), with a test's clock, jitter and sampling interval.
        var engine = Engine.Create(new EngineOptions(temp.Combine("data"), events, new StorageAlarm(events, clock, NullLogger<StorageAlarm>.Instance), plugins, clock, NullLoggerFactory.Instance)
        {
            UsageInterval = TimeSpan.FromMilliseconds(200),
            Logs = logs ?? LogSettings.Default,
            Random = random ?? (() => 0.5),
            StopDeadline = stopDeadline ?? TimeSpan.FromMinutes(2),
            QuietLogInterval = quietLogInterval ?? TimeSpan.FromSeconds(30),
        });
        Directory.CreateDirectory(temp.Combine("manifests"));
        return new EngineFixture(temp, plugins, engine, events);
    }

    /// <summary>
    /// Writes unit manifests and validates the folder: the first call starts the engine on it, a
    /// later one applies the difference (as the manifest watcher would).
    /// </summary>
    public async Task<UnitSet> RunAsync(params string[] manifests)
    {
        var set = Write(manifests);
        if (_running is null)
        {
            await Supervisor.StartAsync(set, CancellationToken.None);
        }
        else
        {
            await Supervisor.ApplyAsync(ManifestDiff.Between(_running, set), set, CancellationToken.None);
        }

        _running = set;
        return set;
    }

    public UnitSet Write(params string[] manifests)
    {
        WriteFiles(manifests);
        var result = UnitSetLoader.Load(Dir, Plugins);
        return result.Units ?? throw new Xunit.Sdk.XunitException(string.Join("\n", result.Problems));
    }

    /// <summary>Writes unit manifests into the manifests folder (NAME.yaml), nothing more.</summary>
    public void WriteFiles(params string[] manifests)
    {
        foreach (var manifest in manifests)
        {
            var name = manifest.Split('\n').First(l => l.StartsWith("name:", StringComparison.Ordinal))[5..].Trim();
            File.WriteAllText(Path.Combine(Dir, name + ".yaml"), manifest);
        }
    }

    public UnitSupervisor Unit(string name) => Supervisor.Find(name) ?? throw new Xunit.Sdk.XunitException($"no unit {name}");

    public async Task<UnitStatus> WaitForAsync(string unit, Func<UnitStatus, bool> condition, string what)
    {
        UnitStatus? last = null;
        try
        {
            return await Eventually.WaitAsync(() => { last = Supervisor.Find(unit)?.Status(); return last is not null && condition(last) ? last : null; }, Deadline, what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last status: {last}; events: {string.Join(" | ", EventsOf(unit).TakeLast(10).Select(e => $"{e.Kind} {e.Payload}"))}", ex);
        }
    }

    public Task<UnitStatus> WaitForStateAsync(string unit, string state) => WaitForAsync(unit, s => s.State == state, $"{unit} to be {state}");

    public IReadOnlyList<HostEvent> EventsOf(string unit) => Events.Recent().Where(e => e.Unit == unit).ToArray();

    public static bool IsAlive(int pid) => ProcStat.Read(pid) is { IsZombie: false };

    /// <summary>Live processes with <paramref name="argument"/> among their arguments: how many copies of a unit really run.</summary>
    public static int[] ProcessesWithArgument(string argument) =>
        [.. ProcStat.All().Where(p => ReadArguments(p.Pid).Contains(argument)).Select(p => p.Pid)];

    private static string[] ReadArguments(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>A manifest watcher over this engine's manifests folder, applying to its supervisor (no folder watch unless <paramref name="debounce"/>).</summary>
    public ManifestWatcher Watcher(UnitSet current, TimeSpan? debounce = null) =>
        new(Dir, current, Plugins, Events, TimeProvider.System, debounce, Supervisor.ApplyAsync, NullLogger<ManifestWatcher>.Instance);

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await Plugins.DisposeAsync();
        _temp.Dispose();
    }
}
