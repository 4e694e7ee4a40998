using PluginHost.Contracts.Testing;
using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

/// <summary>Each launchd key a launchd-service unit honours, with a real process showing it took effect.</summary>
public sealed class LaunchdServiceKeysTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;
    private TempDirectory _files = null!;

    public async Task InitializeAsync()
    {
        _engine = await EngineFixture.StartAsync();
        _files = new TempDirectory("launchd-keys");
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task StandardOutPath_and_StandardErrorPath_get_each_line_as_written_and_the_host_still_captures_it()
    {
        await _engine.RunAsync(LaunchdManifest.Of("talker", $"""
            ProgramArguments: [/bin/sh, -c, "echo out one; echo err one >&2; echo 'out two  with  spaces'; sleep 1000"]
            RunAtLoad: true
            StandardOutPath: {_files.Combine("logs", "talker.log")}
            StandardErrorPath: {_files.Combine("logs", "talker.error.log")}
            """));
        await Eventually.TrueAsync(() => File.Exists(_files.Combine("logs", "talker.log")) && File.ReadAllText(_files.Combine("logs", "talker.log")).Contains("two", StringComparison.Ordinal)
            && File.Exists(_files.Combine("logs", "talker.error.log")) && File.ReadAllText(_files.Combine("logs", "talker.error.log")).Length > 0, EngineFixture.Deadline, "both files written");
        Assert.Equal("out one\nout two  with  spaces\n", File.ReadAllText(_files.Combine("logs", "talker.log")));
        Assert.Equal("err one\n", File.ReadAllText(_files.Combine("logs", "talker.error.log")));
        Assert.Contains(_engine.Unit("talker").Log.Tail(10), l => l.Text == "err one");
    }

    [Fact]
    public async Task One_file_for_both_streams_keeps_their_order()
    {
        var both = _files.Combine("both.log");
        await _engine.RunAsync(LaunchdManifest.Of("both", $"""
            ProgramArguments: [/bin/sh, -c, "echo 1; sleep 0.2; echo 2 >&2; sleep 0.2; echo 3; sleep 1000"]
            RunAtLoad: true
            StandardOutPath: {both}
            StandardErrorPath: {both}
            """));
        await Eventually.TrueAsync(() => File.Exists(both) && File.ReadAllText(both) == "1\n2\n3\n", EngineFixture.Deadline, "three lines in one file");
    }

    [Fact]
    public async Task EnvironmentVariables_and_WorkingDirectory_reach_the_program()
    {
        var folder = Directory.CreateDirectory(_files.Combine("work")).FullName;
        var output = _files.Combine("env.log");
        await _engine.RunAsync(LaunchdManifest.Of("env", $$"""
            ProgramArguments: [/bin/sh, -c, "echo \"$GREETING|$(pwd)\"; sleep 1000"]
            RunAtLoad: true
            WorkingDirectory: {{folder}}
            EnvironmentVariables: { GREETING: "hello world" }
            StandardOutPath: {{output}}
            """));
        await Eventually.TrueAsync(() => File.Exists(output) && File.ReadAllText(output).Length > 0, EngineFixture.Deadline, "the program's line");
        Assert.Equal($"hello world|{folder}\n", File.ReadAllText(output));
    }

    [Fact]
    public async Task ExitTimeOut_is_the_grace_between_SIGTERM_and_SIGKILL()
    {
        await _engine.RunAsync(LaunchdManifest.Of("stubborn", """
            ProgramArguments: [/bin/sh, -c, "trap '' TERM; echo ready; exec sleep 1000"]
            RunAtLoad: true
            ExitTimeOut: 1
            """));
        await _engine.WaitForAsync("stubborn", s => s.State == "ready" && _engine.Unit("stubborn").Log.Tail(5).Any(l => l.Text == "ready"), "it to ignore SIGTERM");
        var started = System.Diagnostics.Stopwatch.StartNew();
        _engine.Unit("stubborn").Stop();
        await _engine.WaitForStateAsync("stubborn", "stopped");
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1), $"stopped after {started.Elapsed}, before ExitTimeOut");
        var exited = _engine.EventsOf("stubborn").Last(e => e.Kind == "unit_exited");
        Assert.True(exited.Payload.GetProperty("forced").GetBoolean());
        Assert.Equal(9, exited.Payload.GetProperty("signal").GetInt32());
    }

    [Fact]
    public async Task The_whole_process_group_is_stopped_with_the_job_as_AbandonProcessGroup_false_says()
    {
        await _engine.RunAsync(LaunchdManifest.Of("parent", """
            ProgramArguments: [/bin/sh, -c, "sleep 1001 & sleep 1002 & echo started; wait"]
            RunAtLoad: true
            AbandonProcessGroup: false
            """));
        await _engine.WaitForAsync("parent", s => s.State == "ready" && EngineFixture.ProcessesWithArgument("1002").Length == 1, "its children to run");
        var session = _engine.Unit("parent").Status().Pid!.Value;
        _engine.Unit("parent").Stop();
        await _engine.WaitForStateAsync("parent", "stopped");
        await Eventually.TrueAsync(() => ProcStat.SessionMembers(session).All(p => p.IsZombie), EngineFixture.Deadline, "no process of its group left");
        Assert.Empty(EngineFixture.ProcessesWithArgument("1001"));
    }

    [Fact]
    public async Task UserName_runs_the_job_as_that_user_when_the_host_is_root()
    {
        var output = _files.Combine("user.log");
        await _engine.RunAsync(LaunchdManifest.Of("as-daemon", $"""
            ProgramArguments: [/bin/sh, -c, "id -un; sleep 1000"]
            RunAtLoad: true
            UserName: daemon
            StandardOutPath: {output}
            """));
        if (!Environment.IsPrivilegedProcess)
        {
            var failed = await _engine.WaitForStateAsync("as-daemon", "failed");
            Assert.Equal("USER_SWITCH_NEEDS_ROOT", failed.LastError?.Code);
            return;
        }

        await Eventually.TrueAsync(() => File.Exists(output) && File.ReadAllText(output).Length > 0, EngineFixture.Deadline, "the program's line");
        Assert.Equal("daemon\n", File.ReadAllText(output));
        var pid = _engine.Unit("as-daemon").Status().Pid!.Value;
        Assert.Contains("\t1\t", File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)), StringComparison.Ordinal); // daemon is uid 1 on Debian
    }

    [Fact]
    public async Task An_output_file_that_cannot_be_opened_fails_the_start_with_a_remedy()
    {
        var blocker = _files.Write("not-a-folder", "x");
        await _engine.RunAsync(LaunchdManifest.Of("blocked", $"""
            ProgramArguments: [/bin/sleep, "1000"]
            RunAtLoad: true
            StandardOutPath: {blocker}/out.log
            """));
        var status = await _engine.WaitForStateAsync("blocked", "failed");
        Assert.Equal("OUTPUT_PATH_UNWRITABLE", status.LastError?.Code);
        Assert.Null(status.Pid);
    }
}
