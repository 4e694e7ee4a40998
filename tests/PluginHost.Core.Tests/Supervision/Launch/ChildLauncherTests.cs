using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Processes;
using PluginHost.Core.Supervision.Launch;
using PluginHost.Core.Supervision.Stopping;
using Xunit;

namespace PluginHost.Core.Tests.Supervision.Launch;

public sealed class ChildLauncherTests : IDisposable
{
    private readonly TempDirectory _dir = new("launcher");
    private readonly UnitLog _log;

    public ChildLauncherTests() => _log = new UnitLog(_dir.Combine("u.log"), LogSettings.Default);

    public void Dispose()
    {
        _log.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task On_pipes_every_line_of_both_streams_reaches_the_log_and_an_output_holder_keeps_them_open()
    {
        var child = ChildLauncher.Spawn(new LaunchPlan("/bin/sh"), Request("/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 3"), StopSettings.Default, _log, TimeProvider.System);
        try
        {
            Assert.True(child.Holder.Pid > 0, "no output holder was started");
            Assert.True(EngineFixture.IsAlive(child.Holder.Pid));
            Assert.Equal(3, (await child.Exited.WaitAsync(TimeSpan.FromSeconds(10))).Code);
            await Eventually.TrueAsync(() => _log.LinesCaptured == 2, TimeSpan.FromSeconds(10), "both lines");

            var lines = _log.Tail(10);
            Assert.Contains(lines, l => l is { Stream: OutputStream.Stdout, Text: "to-out" });
            Assert.Contains(lines, l => l is { Stream: OutputStream.Stderr, Text: "to-err" });
            Assert.Null(child.Terminal);
        }
        finally
        {
            await StopAsync(child);
        }

        await Eventually.TrueAsync(() => !EngineFixture.IsAlive(child.Holder.Pid), TimeSpan.FromSeconds(10), "the holder to be released");
    }

    [Fact]
    public async Task On_a_pty_the_program_has_a_terminal_of_its_own_and_leads_its_session()
    {
        var plan = new LaunchPlan("/bin/sh") { Io = LaunchIo.Pty };
        var child = ChildLauncher.Spawn(plan, Request("/bin/sh", "-c", "tty; ps -o sid= -p $$; sleep 30"), StopSettings.Default, _log, TimeProvider.System);
        try
        {
            Assert.NotNull(child.Terminal);
            Assert.Equal(0, child.Holder.Pid);
            await Eventually.TrueAsync(() => _log.Tail(10).Count >= 2, TimeSpan.FromSeconds(10), "the terminal's output");
            var lines = _log.Tail(10);
            Assert.StartsWith("/dev/pts/", lines[0].Text);
            Assert.Equal(child.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[1].Text.Trim());
        }
        finally
        {
            await StopAsync(child);
        }
    }

    private static Task<StopOutcome> StopAsync(RunningChild child) =>
        ChildStopper.StopAsync(child, _ => ValueTask.CompletedTask, _ => { }, TimeProvider.System);

    private SpawnRequest Request(string command, params string[] arguments) =>
        new(command, arguments, new Dictionary<string, string>(), _dir.Path);
}
