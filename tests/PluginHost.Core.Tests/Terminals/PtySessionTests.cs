using System.Text;
using System.Text.RegularExpressions;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Core.Processes;
using PluginHost.Core.Supervision;
using PluginHost.Core.Terminals;
using PluginHost.Core.Tests.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Terminals;

/// <summary>pty-session units on real pseudo-terminals owned by the host.</summary>
public sealed partial class PtySessionTests : IAsyncLifetime
{
    private EngineFixture _engine = null!;

    public async Task InitializeAsync() => _engine = await EngineFixture.StartAsync(recentEvents: 20_000);

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private static string Session(string name, string script, string extra = "", string spec = "") => $"""
        apiVersion: pluginhost/v1
        kind: pty-session
        name: {name}
        {extra}
        spec:
          command: /bin/bash
          args: [-c, '{script.Replace("'", "''", StringComparison.Ordinal)}']
          {spec}
        """;

    private async Task<PtyTerminal> ReadyTerminalAsync(string name)
    {
        await _engine.WaitForStateAsync(name, "ready");
        return _engine.Unit(name).Terminal ?? throw new Xunit.Sdk.XunitException($"{name} has no terminal");
    }

    /// <summary>Reads a viewer (its backlog first) until the text so far satisfies the condition.</summary>
    private static Task<string> ReadUntilAsync(TerminalViewer viewer, StringBuilder seen, Func<string, bool> done, string what, TimeSpan? deadline = null) =>
        ReadAsync(viewer, seen, (text, _) => done(text.ToString()), what, deadline);

    /// <summary>
    /// Reads until <paramref name="marker"/> appears, looking only at what each read added (and the
    /// marker's length before it): a 10 MB burst arrives in thousands of pty reads, and turning the
    /// whole text into a string after each one made these tests quadratic — 14 s on an idle machine,
    /// past their deadline with both cores busy.
    /// </summary>
    private static Task<string> ReadUntilMarkerAsync(TerminalViewer viewer, StringBuilder seen, string marker, string what) =>
        ReadAsync(viewer, seen, (text, added) =>
        {
            var from = Math.Max(0, added - marker.Length);
            return text.ToString(from, text.Length - from).Contains(marker, StringComparison.Ordinal);
        }, what, null);

    /// <param name="done">The text so far, and where the newest read begins in it.</param>
    private static async Task<string> ReadAsync(TerminalViewer viewer, StringBuilder seen, Func<StringBuilder, int, bool> done, string what, TimeSpan? deadline)
    {
        using var timeout = new CancellationTokenSource(deadline ?? EngineFixture.Deadline);
        if (seen.Length == 0 && viewer.Backlog.Length > 0)
        {
            seen.Append(Encoding.UTF8.GetString(viewer.Backlog.Span));
        }

        var added = 0;
        while (!done(seen, added))
        {
            ReadOnlyMemory<byte>? chunk;
            try
            {
                chunk = await viewer.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}; output so far:\n{Tail(seen.ToString())}");
            }

            if (chunk is null)
            {
                throw new Xunit.Sdk.XunitException($"the session ended ({viewer.EndReason}) before {what}; output:\n{Tail(seen.ToString())}");
            }

            added = seen.Length;
            seen.Append(Encoding.UTF8.GetString(chunk.Value.Span));
        }

        return seen.ToString();
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : "…" + text[^2000..];

    private static Task WriteAsync(PtyTerminal terminal, string text) => terminal.WriteAsync(Encoding.UTF8.GetBytes(text), CancellationToken.None).AsTask();

    [Fact]
    public async Task The_program_runs_on_a_real_terminal_that_it_leads()
    {
        await _engine.RunAsync(Session("tty", "tty; [ -t 0 ] && [ -t 1 ] && echo ISATTY; echo SID=$(ps -o sid= -p $$ | tr -d \" \") PID=$$; sleep 300"));
        var terminal = await ReadyTerminalAsync("tty");
        using var viewer = terminal.Attach();

        var text = await ReadUntilAsync(viewer, new StringBuilder(), t => t.Contains("PID=", StringComparison.Ordinal) && t.TrimEnd().EndsWith(_engine.Unit("tty").Status().Pid.ToString()!, StringComparison.Ordinal), "the identity lines");

        Assert.Contains(terminal.SlavePath, text, StringComparison.Ordinal);
        Assert.StartsWith("/dev/pts/", terminal.SlavePath, StringComparison.Ordinal);
        Assert.Contains("ISATTY", text, StringComparison.Ordinal);
        var ids = SessionIds().Match(text);
        Assert.Equal(ids.Groups["sid"].Value, ids.Groups["pid"].Value); // the program leads its own session
    }

    [Fact]
    public async Task Ctrl_C_typed_into_the_terminal_interrupts_the_foreground_job()
    {
        await _engine.RunAsync(Session("ctrlc", "trap \"echo INTERRUPTED\" INT; echo READY; while true; do sleep 0.1; done"));
        var terminal = await ReadyTerminalAsync("ctrlc");
        using var viewer = terminal.Attach();
        var seen = new StringBuilder();
        await ReadUntilAsync(viewer, seen, t => t.Contains("READY", StringComparison.Ordinal), "READY");

        await terminal.WriteAsync(new byte[] { 0x03 }, CancellationToken.None);

        await ReadUntilAsync(viewer, seen, t => t.Contains("INTERRUPTED", StringComparison.Ordinal), "the INT trap");
    }

    [Fact]
    public async Task A_resize_reaches_the_program_as_SIGWINCH_and_stty_sees_the_new_size()
    {
        await _engine.RunAsync(Session("resize", "trap \"stty size\" WINCH; stty size; echo READY; while true; do sleep 0.1; done", spec: "cols: 120\n  rows: 40"));
        var terminal = await ReadyTerminalAsync("resize");
        using var viewer = terminal.Attach();
        var seen = new StringBuilder();
        var first = await ReadUntilAsync(viewer, seen, t => t.Contains("READY", StringComparison.Ordinal), "the first size");

        await terminal.ResizeAsync(new TerminalSize(100, 30), CancellationToken.None);

        await ReadUntilAsync(viewer, seen, t => t.Contains("30 100", StringComparison.Ordinal), "the new size after SIGWINCH");
        Assert.Contains("40 120", first, StringComparison.Ordinal);
        Assert.Equal(new TerminalSize(100, 30), terminal.Size);
    }

    private const string Burst = "read go; awk 'BEGIN { pad = sprintf(\"%0190d\", 0); for (i = 1; i <= 50000; i++) printf \"%05d %s\\n\", i, pad }'; echo BURST-DONE; sleep 300";

    [Fact]
    public async Task A_10_MB_burst_of_50000_lines_reaches_a_viewer_whole_and_in_order()
    {
        await _engine.RunAsync(Session("burst", Burst));
        var terminal = await ReadyTerminalAsync("burst");
        using var viewer = terminal.Attach();
        var seen = new StringBuilder();

        await WriteAsync(terminal, "go\r");
        var text = await ReadUntilMarkerAsync(viewer, seen, "BURST-DONE", "the end of the burst");

        AssertAllLines(text);
        Assert.True(terminal.BytesRead > 50_000 * 196, $"read {terminal.BytesRead} bytes");
    }

    [Fact]
    public async Task A_slow_viewer_makes_the_program_wait_memory_stays_bounded_and_nothing_is_lost()
    {
        await _engine.RunAsync(Session("slow", Burst));
        var terminal = await ReadyTerminalAsync("slow");
        const int capacity = 64 * 1024;
        using var viewer = terminal.Attach(capacity);
        var seen = new StringBuilder(viewer.Backlog.Length > 0 ? Encoding.UTF8.GetString(viewer.Backlog.Span) : "");

        await WriteAsync(terminal, "go\r");
        await Eventually.TrueAsync(() => viewer.Full, EngineFixture.Deadline, "the viewer's buffer to fill");
        var readWhenFull = terminal.BytesRead;
        await Task.Delay(300); // nothing is read from the master while the viewer takes nothing
        var readAfterPause = terminal.BytesRead;
        var bufferedWhileBlocked = terminal.Buffered;
        var text = await ReadUntilMarkerAsync(viewer, seen, "BURST-DONE", "the end of the burst");

        Assert.Equal(readWhenFull, readAfterPause);
        Assert.InRange(bufferedWhileBlocked, capacity, capacity + PtyTerminal.ReadBufferBytes);
        AssertAllLines(text);
    }

    private static void AssertAllLines(string text)
    {
        var numbers = text.Split("\r\n").Where(l => BurstLine().IsMatch(l)).Select(l => int.Parse(l[..5], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(1, 50_000), numbers);
    }

    [Fact]
    public async Task UTF_8_split_across_reads_is_whole_in_the_log_and_binary_output_passes_untouched()
    {
        // 100,000 three-byte characters: 64 KB reads end inside characters.
        await _engine.RunAsync(Session("utf8", "read go; awk 'BEGIN { for (i = 0; i < 100000; i++) printf \"한\"; printf \"\\n\" }'; echo UTF8-DONE; stty raw -echo; printf \"BIN:\\000\\001\\377\\376\\n\\r\\177:END\"; sleep 300"));
        var terminal = await ReadyTerminalAsync("utf8");
        using var viewer = terminal.Attach();
        var bytes = new List<byte>(viewer.Backlog.ToArray());
        await WriteAsync(terminal, "go\r");
        using var timeout = new CancellationTokenSource(EngineFixture.Deadline);
        while (!Encoding.Latin1.GetString([.. bytes]).Contains(":END", StringComparison.Ordinal))
        {
            bytes.AddRange((await viewer.ReadAsync(timeout.Token))!.Value.ToArray());
        }

        // The log cuts lines at 64 KiB (bounded memory), between characters; joined, they are every character, none mangled.
        var logged = await Eventually.WaitAsync(() => _engine.Unit("utf8").Log.Tail(50) is var tail && tail.Any(l => l.Text.Contains("UTF8-DONE", StringComparison.Ordinal))
            ? string.Concat(tail.Where(l => l.Text.StartsWith('한')).Select(l => l.Text)) : null, EngineFixture.Deadline, "the long line in the log");
        Assert.Equal(new string('한', 100_000), logged);
        var raw = bytes.ToArray();
        var start = IndexOf(raw, "BIN:"u8.ToArray());
        Assert.Equal(new byte[] { 0x00, 0x01, 0xFF, 0xFE, (byte)'\n', (byte)'\r', 0x7F }, raw[(start + 4)..(start + 11)]);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        throw new Xunit.Sdk.XunitException("marker not found");
    }

    [Fact]
    public async Task Thirty_sessions_run_at_once_each_on_its_own_terminal_and_a_31st_is_refused_clearly()
    {
        var names = Enumerable.Range(1, 30).Select(i => $"s{i:00}").ToArray();
        await _engine.RunAsync([.. names.Select(n => Session(n, "echo \"session $(tty)\"; sleep 300"))]);
        var terminals = new List<PtyTerminal>();
        foreach (var name in names)
        {
            terminals.Add(await ReadyTerminalAsync(name));
        }

        var outputs = new List<string>();
        foreach (var terminal in terminals)
        {
            using var viewer = terminal.Attach();
            outputs.Add(await ReadUntilAsync(viewer, new StringBuilder(), t => t.Contains("session /dev/pts/", StringComparison.Ordinal) && t.Contains('\n'), "the session line"));
        }

        await _engine.RunAsync(Session("s31", "sleep 300"));
        var refused = await _engine.WaitForStateAsync("s31", "failed");

        Assert.Equal(30, terminals.Select(t => t.SlavePath).Distinct().Count());
        Assert.All(outputs.Zip(terminals), p => Assert.Contains("session " + p.Second.SlavePath, p.First, StringComparison.Ordinal));
        Assert.Equal("PTY_POOL_FULL", refused.LastError!.Code);
        Assert.Contains("the pool allows 30", refused.LastError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kill_9_is_detected_and_a_new_session_starts_with_a_working_terminal()
    {
        await _engine.RunAsync(Session("crashy", "echo \"PID=$$\"; cat"));
        var first = await _engine.WaitForStateAsync("crashy", "ready");

        LibC.kill(first.Pid!.Value, 9);
        var second = await _engine.WaitForAsync("crashy", s => s.State == "ready" && s.Pid != first.Pid, "a new session");
        var terminal = _engine.Unit("crashy").Terminal!;
        using var viewer = terminal.Attach();
        await WriteAsync(terminal, "echo-back\r");
        await ReadUntilAsync(viewer, new StringBuilder(), t => Regex.Matches(t, "echo-back").Count >= 2, "cat to echo the line back");

        var kinds = _engine.EventsOf("crashy").Select(e => e.Kind).ToList();
        Assert.True(kinds.IndexOf("crash_detected") >= 0 && kinds.IndexOf("crash_detected") < kinds.IndexOf("session_restarted"), string.Join(", ", kinds));
        var crash = _engine.EventsOf("crashy").First(e => e.Kind == "crash_detected");
        Assert.Equal(9, crash.Payload.GetProperty("signal").GetInt32());
        Assert.False(EngineFixture.IsAlive(first.Pid.Value));
        Assert.Equal(1, second.Restarts);
    }

    [Fact]
    public async Task A_plugin_hot_reload_keeps_sessions_and_their_terminals_alive()
    {
        await _engine.RunAsync(Session("kept", "cat"), Session("kept2", "cat"));
        var before = new[] { await _engine.WaitForStateAsync("kept", "ready"), await _engine.WaitForStateAsync("kept2", "ready") };
        var terminal = _engine.Unit("kept").Terminal!;

        var outcome = await _engine.Plugins.ReloadAsync("pty-session", CancellationToken.None);
        using var viewer = terminal.Attach();
        await WriteAsync(terminal, "after-reload\r");
        await ReadUntilAsync(viewer, new StringBuilder(), t => Regex.Matches(t, "after-reload").Count >= 2, "the session to answer after the reload");

        Assert.True(outcome.Succeeded, outcome.ToString());
        Assert.Equal(before.Select(s => s.Pid), new[] { _engine.Unit("kept").Status().Pid, _engine.Unit("kept2").Status().Pid });
        Assert.Same(terminal, _engine.Unit("kept").Terminal);
        Assert.Equal([0, 0], new[] { _engine.Unit("kept").Status().Restarts, _engine.Unit("kept2").Status().Restarts });
    }

    [Fact]
    public async Task Input_to_a_program_that_never_reads_it_fails_after_the_timeout_instead_of_hanging()
    {
        await _engine.RunAsync(Session("deaf", "stty -icanon; sleep 300"));
        var terminal = await ReadyTerminalAsync("deaf");
        terminal.InputTimeout = TimeSpan.FromMilliseconds(500);

        var write = terminal.WriteAsync(new byte[256 * 1024], CancellationToken.None).AsTask();
        var error = await Assert.ThrowsAsync<IOException>(() => write.WaitAsync(EngineFixture.Deadline));

        Assert.Contains("has not read its input", error.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"SID=(?<sid>\d+) PID=(?<pid>\d+)")]
    private static partial Regex SessionIds();

    [GeneratedRegex(@"^\d{5} 0{190}$")]
    private static partial Regex BurstLine();
}
