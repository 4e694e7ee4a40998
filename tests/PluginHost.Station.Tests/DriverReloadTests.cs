using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Testing;
using PluginHost.Station.Worker;
using PluginHost.Station.Worker.Drivers;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>A running worker's driver plugins: a rebuilt one is taken up by the next run, the old one unloaded, its sockets closed.</summary>
public sealed class DriverReloadTests : IAsyncLifetime
{
    private static readonly string TestPlugins = Path.Combine(RepositoryLayout.Root, "artifacts", "test-plugins");
    private readonly TempDirectory _dir = new("driver-reload");
    private readonly FakeScpiInstrument _meter = new();
    private readonly RecordingLogger _log = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _meter.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_rebuilt_driver_is_used_by_the_next_run_and_the_old_one_is_unloaded_with_its_connection_closed()
    {
        var root = _dir.Combine("drivers");
        RepositoryLayout.CopyDirectory(Path.Combine(TestPlugins, "edition-driver-v1"), Path.Combine(root, "edition"));
        RepositoryLayout.CopyDirectory(Path.Combine(StationPaths.Drivers, "scpi"), Path.Combine(root, "scpi"));
        HardwareBinding[] bindings =
        [
            new("ed", "test-edition", "127.0.0.1", 0, new Dictionary<string, string>()),
            new("meter", "scpi-tcp", "127.0.0.1", _meter.Port, new Dictionary<string, string>()),
        ];
        await using var plugins = new DriverPlugins(root, bindings, _log);

        Assert.Equal("1", await EditionAsync(plugins, bindings[0]));
        await ConnectAndLeaveOpenAsync(plugins, bindings[1]); // an instrument still open when its plugin goes
        Assert.Equal(1, _meter.Open);
        var notes = new List<string>();
        Assert.Equal("1", await EditionAsync(plugins, bindings[0], notes.Add)); // nothing changed: the same load
        Assert.Empty(notes);

        RepositoryLayout.CopyDirectory(Path.Combine(TestPlugins, "edition-driver-v2"), Path.Combine(root, "edition")); // the rebuild
        Assert.Equal("2", await EditionAsync(plugins, bindings[0], notes.Add));

        Assert.StartsWith($"equipment drivers changed under {root}: loaded anew (", Assert.Single(notes), StringComparison.Ordinal);
        await Eventually.TrueAsync(() => _meter.Open == 0, TimeSpan.FromSeconds(10), "the old scpi-tcp instance's connection closed before its plugin was unloaded");
        Assert.Contains(_log.Lines, l => l.StartsWith("equipment driver plugins edition 1.0.0, scpi 1.0.0 unloaded and collected", StringComparison.Ordinal));
        Assert.DoesNotContain(_log.Lines, l => l.Contains("DRIVER_UNLOAD_LEAK", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_driver_that_fails_to_load_is_a_coded_error_and_loads_once_it_is_fixed()
    {
        var root = _dir.Combine("drivers");
        HardwareBinding[] bindings = [new("ed", "test-edition", "127.0.0.1", 0, new Dictionary<string, string>())];
        await using var plugins = new DriverPlugins(root, bindings, _log);

        var missing = await Assert.ThrowsAsync<WorkerException>(() => plugins.CurrentAsync());
        Assert.Equal("DRIVER_NOT_FOUND", missing.Code);
        Assert.Same(missing, plugins.LastFailure);

        RepositoryLayout.CopyDirectory(Path.Combine(TestPlugins, "edition-driver-v1"), Path.Combine(root, "edition"));
        Assert.Equal("1", await EditionAsync(plugins, bindings[0]));
        Assert.Null(plugins.LastFailure);
    }

    /// <summary>One run's use of the driver. Not inlined: no reference to the plugin's objects may outlive it, or its unload could not be verified.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<string> EditionAsync(DriverPlugins plugins, HardwareBinding binding, Action<string>? reloaded = null)
    {
        await using var instrument = (await plugins.CurrentAsync(reloaded)).Open(binding);
        return (await instrument.QueryAsync("EDITION?", CancellationToken.None)).Text;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task ConnectAndLeaveOpenAsync(DriverPlugins plugins, HardwareBinding binding)
    {
        var instrument = (await plugins.CurrentAsync()).Open(binding);
        await instrument.QueryAsync("*OPC?", CancellationToken.None);
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }
}
