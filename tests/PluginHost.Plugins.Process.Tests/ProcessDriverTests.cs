using System.Diagnostics;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using Xunit;

namespace PluginHost.Plugins.Process.Tests;

public sealed class ProcessDriverTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("process-plugin");
    private LoadedPluginUnderTest _plugin = null!;

    public async Task InitializeAsync() => _plugin = await LoadedPluginUnderTest.LoadAsync(RepositoryLayout.Plugin("process"));

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _dir.Dispose();
    }

    private IUnitContext Context(string spec, IReadOnlyDictionary<string, string>? env = null) =>
        TestUnitContext.Create("process", spec, _dir.Combine("manifests"), _dir.Combine("data"), env);

    private Task<LaunchPlan> PrepareAsync(string spec, IReadOnlyDictionary<string, string>? env = null) =>
        _plugin.Driver("process").PrepareAsync(Context(spec, env), CancellationToken.None).AsTask();

    [Fact]
    public async Task A_command_name_is_resolved_on_PATH_to_an_absolute_path()
    {
        var plan = await PrepareAsync("command: sh\nargs: [-c, 'exit 0']");

        Assert.True(Path.IsPathRooted(plan.Command), plan.Command);
        Assert.EndsWith("/sh", plan.Command, StringComparison.Ordinal);
        Assert.Equal(["-c", "exit 0"], plan.Arguments);
        Assert.Equal(_dir.Combine("data"), plan.WorkingDirectory);
    }

    [Fact]
    public async Task A_missing_command_fails_before_anything_is_spawned_with_a_coded_error()
    {
        var error = await Assert.ThrowsAsync<UnitErrorException>(() => PrepareAsync("command: no-such-program-here"));

        Assert.Equal("COMMAND_NOT_FOUND", error.Error.Code);
        Assert.Contains("no-such-program-here", error.Error.Message, StringComparison.Ordinal);
        Assert.Contains("PATH", error.Error.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_working_directory_is_a_coded_error()
    {
        var error = await Assert.ThrowsAsync<UnitErrorException>(() => PrepareAsync("command: /bin/sh\ncwd: ./nowhere"));

        Assert.Equal("CWD_NOT_FOUND", error.Error.Code);
        Assert.Contains(_dir.Combine("manifests", "nowhere"), error.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_plan_runs_with_its_arguments_environment_and_working_directory()
    {
        Directory.CreateDirectory(_dir.Combine("manifests", "app"));
        var plan = await PrepareAsync("""
            command: /bin/sh
            args: [-c, 'echo "$PWD|$FROM_MANIFEST|$FROM_SPEC|$OVERRIDDEN"']
            cwd: ./app
            env: { FROM_SPEC: spec, OVERRIDDEN: by-spec }
            """, new Dictionary<string, string> { ["FROM_MANIFEST"] = "manifest", ["OVERRIDDEN"] = "by-manifest" });

        var output = await RunAsync(plan);

        Assert.Equal($"{_dir.Combine("manifests", "app")}|manifest|spec|by-spec", output);
    }

    [Fact]
    public async Task OutputEvents_names_the_event_kind_of_each_output_line_and_must_be_one()
    {
        var plan = await PrepareAsync("command: /bin/sh\noutputEvents: app-output");
        var problem = Assert.Single(_plugin.Driver("process").Validate(SpecYaml.Parse("command: /bin/sh\noutputEvents: 'Has Spaces'")));

        Assert.Equal(("app-output", 100), (plan.OutputEventKind, plan.OutputEventsPerSecond));
        Assert.Null((await PrepareAsync("command: /bin/sh")).OutputEventKind);
        Assert.Contains("an event kind", problem.Expected, StringComparison.Ordinal);
    }

    private static async Task<string> RunAsync(LaunchPlan plan)
    {
        var start = new ProcessStartInfo(plan.Command, plan.Arguments)
        {
            WorkingDirectory = plan.WorkingDirectory!,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in plan.Environment)
        {
            start.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return output.Trim();
    }
}
