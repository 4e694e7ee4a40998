using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Api;

/// <summary>The CLI client (the real executable) against a running host.</summary>
public sealed partial class ClientTests(ApiHostFixture host) : IClassFixture<ApiHostFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        HostProcess.RunAsync(Path.GetTempPath(), [.. args, "--url", $"http://127.0.0.1:{host.Port}"]);

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public async Task Status_on_a_terminal_fits_its_width(int columns)
    {
        Prerequisite.Program("/usr/bin/script", "bsdutils");
        var command = $"stty cols {columns} rows 40; dotnet exec '{HostProcess.Executable}' status --url http://127.0.0.1:{host.Port}";
        using var terminal = Process.Start(new ProcessStartInfo("/usr/bin/script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
            Environment = { ["TERM"] = "xterm-256color", ["NO_COLOR"] = "1" },
        })!;
        var output = await terminal.StandardOutput.ReadToEndAsync();
        await terminal.WaitForExitAsync();

        var lines = AnsiEscape().Replace(output, "").Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
        Assert.Contains(lines, l => l.Contains("talker", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= columns, $"{l.TrimEnd().Length} > {columns}: {l}"));
        Assert.Equal(columns >= 100, lines.Any(l => l.Contains("Restarts", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_command_list_marks_optional_arguments_as_each_commands_usage_does()
    {
        var (code, help) = await HostProcess.RunAsync(Path.GetTempPath(), "--help");
        var (_, validate) = await HostProcess.RunAsync(Path.GetTempPath(), "validate", "--help");

        Assert.Equal(0, code);
        Assert.Matches(@"\n  validate \[<dir>\] +Check host.yaml", help);
        Assert.Matches(@"\n  start <name> +Start a unit", help);
        Assert.Matches(@"\n  ops <name> \[<operation>\] \[<arguments>\.\.\.\] +List or run", help);
        Assert.Contains("pluginhost validate [<dir>]", validate, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_shows_every_unit_in_a_table_or_as_json()
    {
        var (code, output) = await RunAsync("status");
        var (jsonCode, json) = await RunAsync("status", "--json");

        Assert.Equal(0, code);
        Assert.Contains("talker", output, StringComparison.Ordinal);
        Assert.Contains("ready", output, StringComparison.Ordinal);
        Assert.Contains("Restarts", output, StringComparison.Ordinal);
        Assert.Equal(0, jsonCode);
        Assert.Equal(["off", "sam", "talker"], JsonDocument.Parse(json).RootElement.EnumerateArray().Select(u => u.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Output_to_a_pipe_carries_no_colour_codes_even_in_a_colour_terminal()
    {
        // As in an xterm with colours on (no NO_COLOR), but stdout and stderr go to pipes.
        var colourTerminal = new Dictionary<string, string> { ["NO_COLOR"] = "", ["TERM"] = "xterm-256color", ["COLORTERM"] = "truecolor" };
        var url = $"http://127.0.0.1:{host.Port}";

        var status = await HostProcess.RunAsync(Path.GetTempPath(), colourTerminal, "status", "--url", url);
        var ghost = await HostProcess.RunAsync(Path.GetTempPath(), colourTerminal, "status", "ghost", "--url", url);

        Assert.Contains("talker", status.Output, StringComparison.Ordinal);
        Assert.Contains("UNIT_NOT_FOUND", ghost.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", status.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", ghost.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_start_and_restart_wait_until_the_unit_is_there_and_restart_reports_the_new_pid()
    {
        var before = JsonDocument.Parse((await RunAsync("status", "sam", "--json")).Output).RootElement.GetProperty("pid").GetInt32();

        var stop = await RunAsync("stop", "sam");
        var start = await RunAsync("start", "sam");
        var started = JsonDocument.Parse((await RunAsync("status", "sam", "--json")).Output).RootElement.GetProperty("pid").GetInt32();
        var restart = await RunAsync("restart", "sam");
        var restarted = JsonDocument.Parse((await RunAsync("status", "sam", "--json")).Output).RootElement.GetProperty("pid").GetInt32();

        Assert.True(stop.ExitCode == 0, stop.Output);
        Assert.Contains("sam: stopped", stop.Output, StringComparison.Ordinal);
        Assert.True(start.ExitCode == 0, start.Output);
        Assert.Contains($"sam: ready (pid {started})", start.Output, StringComparison.Ordinal);
        Assert.True(restart.ExitCode == 0, restart.Output);
        Assert.Contains($"sam: ready (pid {restarted})", restart.Output, StringComparison.Ordinal);
        Assert.NotEqual(before, started);
        Assert.NotEqual(started, restarted);
    }

    [Fact]
    public async Task Logs_prints_the_latest_lines_and_follow_keeps_printing_new_ones()
    {
        var (code, output) = await RunAsync("logs", "talker", "-n", "5");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(0, code);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3} line \d+$", l));

        await using var follow = HostProcess.Start(Path.GetTempPath(), "logs", "talker", "-n", "1", "-f", "--url", $"http://127.0.0.1:{host.Port}");
        await Eventually.TrueAsync(() => LineNumbers().Matches(follow.Output).Count >= 5, Deadline, "five lines while following\n" + follow.Output);
        var numbers = LineNumbers().Matches(follow.Output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        follow.Terminate();

        Assert.Equal(Enumerable.Range(numbers[0], numbers.Length), numbers);
    }

    [Fact]
    public async Task Ops_lists_and_runs_plugin_operations_with_typed_arguments_and_explains_refusals()
    {
        var list = await RunAsync("ops", "sam");
        var echo = await RunAsync("ops", "sam", "echo", "text=hello there");
        var missing = await RunAsync("ops", "sam", "echo");
        var json = await RunAsync("ops", "sam", "echo", "--args", "{\"text\": \"from json\"}");

        Assert.Equal(0, list.ExitCode);
        Assert.Contains("echo", list.Output, StringComparison.Ordinal);
        Assert.Contains("text: string", list.Output, StringComparison.Ordinal);
        Assert.True(echo.ExitCode == 0, echo.Output);
        Assert.Contains("hello there", echo.Output, StringComparison.Ordinal);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("INVALID_ARGUMENTS", missing.Output, StringComparison.Ordinal);
        Assert.Contains("\"text\" is required", missing.Output, StringComparison.Ordinal);
        Assert.Contains("from json", json.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_and_an_absent_host_get_a_code_a_message_a_remedy_and_their_exit_code()
    {
        var ghost = await RunAsync("status", "ghost");
        var nobody = await HostProcess.RunAsync(Path.GetTempPath(), "status", "--url", $"http://127.0.0.1:{HostProcess.FreePort()}");

        Assert.Equal(1, ghost.ExitCode);
        Assert.Contains("UNIT_NOT_FOUND", ghost.Output, StringComparison.Ordinal);
        Assert.Contains("→ GET /api/units lists the units", ghost.Output, StringComparison.Ordinal);
        Assert.Equal(4, nobody.ExitCode);
        Assert.Contains("HOST_UNREACHABLE", nobody.Output, StringComparison.Ordinal);
        Assert.Contains("connection refused", nobody.Output, StringComparison.Ordinal);
        Assert.Contains("pluginhost run", nobody.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", ghost.Output + nobody.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_hot_reloads_a_plugin_of_the_running_host_and_the_address_can_come_from_the_environment()
    {
        await using var reload = HostProcess.Start(Path.GetTempPath(), new Dictionary<string, string> { ["PLUGINHOST_URL"] = $"http://127.0.0.1:{host.Port}" }, "reload", "sample");
        var code = await reload.WaitForExitAsync(Deadline);

        Assert.True(code == 0, reload.Output);
        Assert.Contains("reloaded sample", reload.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"line (\d+)")]
    private static partial Regex LineNumbers();

    /// <summary>Escape sequences a terminal program may write: colours, cursor keys, keypad modes.</summary>
    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|[=>])")]
    private static partial Regex AnsiEscape();
}
