using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>`pluginhost run` as an operator uses it: start, look, edit manifests, rebuild a plugin, stop.</summary>
public sealed class RunTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("run");
    private readonly HttpClient _http = new();
    private HostProcess? _host;
    private int _port;

    public Task InitializeAsync()
    {
        // A private copy of the process plugin, so the test can "rebuild" it.
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("process"), _dir.Combine("plugins"));
        _dir.Write("manifests/host.yaml", """
            apiVersion: pluginhost/v1
            plugins: { directories: [../plugins], debounce: 100ms }
            manifests: { debounce: 100ms }
            """);
        _dir.Write("manifests/hello.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: hello\nspec: { command: /bin/sleep, args: ['60'] }\n");
        _port = HostProcess.FreePort();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{_port}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _http.Dispose();
        _dir.Dispose();
    }

    private async Task StartAsync(params string[] extra) => await StartAsync(null, extra);

    /// <param name="dispositions">coreutils env's signal options the host starts with; null: whatever the runner has.</param>
    private async Task StartAsync(string? dispositions, params string[] extra)
    {
        string[] args = ["run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{_port}", .. extra];
        _host = dispositions is null ? HostProcess.Start(_dir.Path, args) : HostProcess.StartWithSignals(_dir.Path, dispositions, args);
        await Eventually.TrueAsync(() => Healthy(), Deadline, "the host to answer /api/health\n" + _host.Output);
    }

    private bool Healthy()
    {
        return _http.GetAsync("/api/health").Result.IsSuccessStatusCode;
    }

    private async Task<JsonElement> GetAsync(string path) => await _http.GetFromJsonAsync<JsonElement>(path);

    [Fact]
    public async Task On_SIGTERM_units_get_their_whole_grace_even_with_event_streams_open_and_none_is_left_behind()
    {
        // A unit that takes 3 s to stop after SIGTERM: longer than any library's default exit timeout.
        _dir.Write("manifests/slow.yaml", """
            apiVersion: pluginhost/v1
            kind: process
            name: slow
            stop: { grace: 10s }
            spec: { command: /bin/bash, args: ["-c", "trap 'sleep 3; echo done; exit 0' TERM; while true; do sleep 0.1; done"] }
            """);
        await StartAsync();
        await Eventually.TrueAsync(() => GetAsync("/api/units/slow").Result.GetProperty("state").GetString() == "ready", Deadline, "slow to be ready");
        var pid = (await GetAsync("/api/units/slow")).GetProperty("pid").GetInt32();
        using var events = await _http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead);
        using var logs = await _http.GetAsync("/api/units/slow/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        _host!.Terminate();
        var code = await _host.WaitForExitAsync(Deadline);

        Assert.True(code == 0, _host.Output);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(2.5), $"the host exited after {stopwatch.Elapsed}, before the unit's stop finished");
        Assert.False(PluginHost.Core.Processes.ProcStat.Read(pid) is { IsZombie: false }, "the unit outlived the host");
        Assert.Contains("Host stopped.", _host.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(15)] // SIGTERM: a service manager
    [InlineData(2)] // SIGINT: Ctrl-C
    [InlineData(3)] // SIGQUIT
    public async Task The_host_serves_its_configuration_and_stops_cleanly_on_a_stop_signal(int signal)
    {
        // With the dispositions under test: a runner started from a script's background job hands
        // SIGINT and SIGQUIT down ignored, and a host honours an inherited ignore (see the next test).
        await StartAsync("--default-signal=INT,QUIT");
        Assert.DoesNotContain(signal, _host!.IgnoredSignals());
        await Eventually.TrueAsync(() => GetAsync("/api/units/hello").Result.GetProperty("state").GetString() == "ready", Deadline, "hello to be ready");

        var units = await GetAsync("/api/units");
        var plugins = await GetAsync("/api/plugins");
        var pid = units[0].GetProperty("pid").GetInt32();
        _host!.Signal(signal);
        int code;
        try
        {
            code = await _host.WaitForExitAsync(Deadline);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"the host still runs {Deadline.TotalSeconds:F0} s after signal {signal}; it ignores signals [{string.Join(", ", _host.IgnoredSignals())}]\n{_host.Output}");
        }

        Assert.Equal("hello", units[0].GetProperty("name").GetString());
        Assert.Equal("process", units[0].GetProperty("plugin").GetProperty("name").GetString());
        Assert.Equal("loaded", plugins[0].GetProperty("state").GetString());
        Assert.True(code == 0, _host.Output);
        Assert.Contains("Host stopped.", _host.Output, StringComparison.Ordinal);
        Assert.False(PluginHost.Core.Processes.ProcStat.Read(pid) is { IsZombie: false }, "the unit outlived the host");
        Assert.True(Directory.Exists(_dir.Combine("data", "plugins-shadow")));
    }

    [Fact]
    public async Task Started_with_SIGINT_ignored_the_host_keeps_it_ignored_says_so_and_stops_on_SIGTERM()
    {
        await StartAsync("--ignore-signal=INT");

        Assert.Contains(2, _host!.IgnoredSignals()); // the kernel discards a SIGINT, as it does for a script's background job
        Assert.Matches(@"Ignored since the host started \(inherited from its parent, as for a script's background job\): (SIGINT|.*, SIGINT)", _host.Output);
        Assert.Contains("stop it with SIGTERM", _host.Output, StringComparison.Ordinal);
        Assert.Contains($"stop it with kill -TERM {_host.Pid}", _host.Output, StringComparison.Ordinal);
        _host.Terminate();
        Assert.Equal(0, await _host.WaitForExitAsync(Deadline));
        Assert.Contains("Host stopped.", _host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rebuilt_plugin_is_hot_reloaded_while_the_host_runs()
    {
        await StartAsync();
        var path = _dir.Combine("plugins", "process", "plugin.yaml");
        File.WriteAllText(path, File.ReadAllText(path).Replace("version: 1.0.0", "version: 1.0.1", StringComparison.Ordinal));

        await Eventually.TrueAsync(() => GetAsync("/api/events/recent").Result.EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "plugin_unloaded"), Deadline, "the old version to be unloaded");

        var plugin = (await GetAsync("/api/plugins"))[0];
        Assert.Equal(("1.0.1", 2), (plugin.GetProperty("version").GetString(), plugin.GetProperty("generation").GetInt32()));
        var reloaded = (await GetAsync("/api/events/recent")).EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "plugin_reloaded");
        Assert.Equal("1.0.1", reloaded.GetProperty("payload").GetProperty("to").GetString());
    }

    [Fact]
    public async Task Manifest_edits_apply_when_valid_and_are_rejected_with_positions_when_not()
    {
        await StartAsync();

        _dir.Write("manifests/second.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: second\nspec: { command: /bin/true }\n");
        await Eventually.TrueAsync(() => GetAsync("/api/units").Result.GetArrayLength() == 2, Deadline, "the added unit");

        _dir.Write("manifests/second.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: second\nspec: { command: /bin/true, argz: [] }\n");
        await Eventually.TrueAsync(() => GetAsync("/api/events/recent").Result.EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "manifest_rejected"), Deadline, "the rejection");

        var rejected = (await GetAsync("/api/events/recent")).EnumerateArray().Last(e => e.GetProperty("kind").GetString() == "manifest_rejected");
        Assert.Contains("second.yaml:4:29: spec.argz: found unknown key \"argz\" (did you mean \"args\"?)", rejected.GetProperty("payload").GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await GetAsync("/api/units")).GetArrayLength());
    }

    [Fact]
    public async Task An_invalid_configuration_stops_the_start_with_exit_3_and_every_problem()
    {
        _dir.Write("manifests/bad.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: bad\nspec: {}\n");

        _host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{_port}");
        var code = await _host.WaitForExitAsync(Deadline);

        Assert.Equal(3, code);
        Assert.Contains("the configuration is invalid; nothing was started", _host.Output, StringComparison.Ordinal);
        Assert.Contains("bad.yaml:4:7: spec.command: found no \"command\"; expected text", _host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unusable_data_folder_is_a_clear_error_not_a_stack_trace()
    {
        _host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "/proc/not-writable", "--urls", $"http://127.0.0.1:{_port}");
        var code = await _host.WaitForExitAsync(Deadline);

        Assert.Equal(3, code);
        Assert.Contains("cannot use the data folder", _host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", _host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_that_is_not_a_database_is_a_clear_error_naming_it()
    {
        _dir.Write("data/journal.db", new string('x', 4096));

        _host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", $"http://127.0.0.1:{_port}");
        var code = await _host.WaitForExitAsync(Deadline);

        Assert.Equal(3, code);
        Assert.Contains("cannot use the data folder", _host.Output, StringComparison.Ordinal);
        Assert.Contains("journal.db: file is not a database", _host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", _host.Output, StringComparison.Ordinal);
    }
}
