using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

using PluginHost.Plugins.Shared;

namespace PluginHost.Plugins.PtySession;

/// <summary>
/// Runs a program on a pseudo-terminal the host owns (<see cref="LaunchIo.Pty"/>): the driver only
/// checks the spec, keeps the session pool, names crashes and recoveries, and offers the terminal
/// operations (write, resize, scrollback, signal, kill). Live bytes go over the host's WebSocket
/// <c>/api/units/NAME/pty</c>; lines also go on the event stream as <c>pty-output</c>.
/// </summary>
internal sealed partial class PtySessionDriver : IUnitDriver
{
    public const string Kind = "pty-session";
    private const string CrashedAtKey = "pty.crashedAt";

    /// <summary>Sessions holding a slot of the pool: prepared and not yet stopped or failed.</summary>
    private readonly ConcurrentDictionary<string, byte> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _pool = new();

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => PtySessionSpec.Read(spec).Problems;

    public UnitDefaults Defaults(SpecMapping spec)
    {
        var (session, _) = PtySessionSpec.Read(spec);
        return new UnitDefaults
        {
            // A crashed session comes back at once (the seed's recovery bar), without the usual 1 s throttle.
            Restart = new RestartSettings
            {
                Policy = session.RestartOnCrash ? RestartPolicy.Always : RestartPolicy.Never,
                InitialBackoff = TimeSpan.Zero,
                MaxBackoff = TimeSpan.FromSeconds(5),
                MinInterval = TimeSpan.Zero,
                MaxRestarts = 20,
                Window = TimeSpan.FromSeconds(60),
                ResetAfter = TimeSpan.FromSeconds(10),
            },
            Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(5)),
        };
    }

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (session, problems) = PtySessionSpec.Read(context.Spec);
        LaunchPreflight.RequireValid(problems);
        var cwd = LaunchPreflight.WorkingDirectory(context, session.WorkingDirectory, "spec.cwd");
        var command = LaunchPreflight.Program(session.Command, cwd, "spec.command");
        TakeSlot(context.UnitName, session.PoolLimit);
        return ValueTask.FromResult(new LaunchPlan(command)
        {
            Arguments = session.Arguments,
            Environment = new Dictionary<string, string>(context.Environment.Concat(session.Environment).GroupBy(e => e.Key).Select(g => g.Last()), StringComparer.Ordinal),
            WorkingDirectory = cwd,
            Io = LaunchIo.Pty,
            TerminalSize = new TerminalSize(session.Columns, session.Rows),
            ScrollbackBytes = session.ScrollbackBytes,
            OutputEventKind = "pty-output",
        });
    }

    /// <summary>The pool: a new session beyond the limit is refused with a clear error, never left waiting.</summary>
    private void TakeSlot(string unit, int limit)
    {
        lock (_pool)
        {
            if (!_sessions.ContainsKey(unit) && _sessions.Count >= limit)
            {
                var running = string.Join(", ", _sessions.Keys.Order(StringComparer.Ordinal).Take(5)) + (_sessions.Count > 5 ? ", …" : "");
                throw Fail("PTY_POOL_FULL", $"{_sessions.Count} pty sessions already run ({running}); the pool allows {limit}.",
                    "Stop a session you no longer need, or raise spec.poolLimit if this machine can take more.");
            }

            _sessions[unit] = 0;
        }
    }

    /// <summary>After a plugin reload the new driver inherits running sessions: they keep their slots. After a host restart the terminal is gone: start afresh.</summary>
    public ValueTask<AttachResult> AttachAsync(IUnitContext context, RunningProcess running, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Terminal is null)
        {
            return ValueTask.FromResult(AttachResult.Refuse("its pseudo-terminal closed with the previous host; a new session is started"));
        }

        _sessions[context.UnitName] = 0;
        return ValueTask.FromResult(AttachResult.Adopt);
    }

    public ValueTask OnStateChangedAsync(IUnitContext context, UnitStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(change);
        if (change.To is UnitState.Stopped or UnitState.Failed)
        {
            _sessions.TryRemove(context.UnitName, out _);
        }

        // The process ended on its own and not cleanly: the transition after its exit carries the code or signal.
        if (change.To is UnitState.Backoff or UnitState.Failed && (change.ExitSignal is not null || change.ExitCode is not (null or 0)))
        {
            context.State.Set(CrashedAtKey, change.Timestamp.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            context.Events.Publish("crash_detected", new JsonObject { ["code"] = change.ExitCode, ["signal"] = change.ExitSignal, ["reason"] = change.Reason });
        }

        if (change.To == UnitState.Ready)
        {
            var crashedAt = context.State.Get(CrashedAtKey);
            context.State.Set(CrashedAtKey, null);
            context.Events.Publish(crashedAt is null ? "session_started" : "session_restarted", new JsonObject
            {
                ["pid"] = context.Process?.Pid,
                ["tty"] = context.Process is { } p ? Tty(p.Pid) : null,
                ["sinceCrashMs"] = crashedAt is null ? null : change.Timestamp.ToUnixTimeMilliseconds() - long.Parse(crashedAt, System.Globalization.CultureInfo.InvariantCulture),
            });
        }

        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<UnitOperation> Operations { get; } =
    [
        new("write", "Types into the session: text (\\r for Enter, \\u0003 for Ctrl-C) or raw bytes in base64.")
        {
            Parameters = [new("text", OperationParameterType.String, "UTF-8 text to send"), new("base64", OperationParameterType.String, "raw bytes to send, base64")],
        },
        new("resize", "Resizes the terminal; the program gets SIGWINCH.")
        {
            Parameters = [new("cols", OperationParameterType.Integer, "columns", Required: true), new("rows", OperationParameterType.Integer, "rows", Required: true)],
        },
        new("scrollback", "The output kept for late viewers: as text and as base64 bytes.")
        {
            Parameters = [new("maxBytes", OperationParameterType.Integer, "only the last N bytes")],
        },
        new("signal", "Sends a signal (INT, TERM, HUP, KILL, USR1, WINCH…) to the session's process group.")
        {
            Parameters = [new("signal", OperationParameterType.String, "the signal's name", Required: true)],
        },
        new("kill", "Ends the session now (SIGKILL to its group) without restarting it."),
    ];

    public async ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (operation == "kill")
        {
            var group = context.Process?.ProcessGroupId;
            context.Control.Stop("killed by an operator");
            return group is { } g && Signals.SendToGroup(g, 9) == 0 ? OperationResult.Ok($"{context.UnitName} killed") : OperationResult.Ok($"{context.UnitName} is not running");
        }

        if (context.Terminal is not { } terminal || context.Process is not { } process)
        {
            return OperationResult.Fail(new UnitError("PTY_NOT_RUNNING", $"{context.UnitName} has no running session.", $"Start it first: pluginhost start {context.UnitName}."));
        }

        switch (operation)
        {
            case "write":
                if (Input(arguments) is not { } bytes)
                {
                    return OperationResult.InvalidArguments("base64 is not valid base64, or text is not valid Unicode (a lone surrogate)",
                        "Send text as a JSON string, or raw bytes as standard base64 (RFC 4648), e.g. {\"base64\": \"AwQ=\"}.");
                }

                try
                {
                    await terminal.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    return OperationResult.Fail(new UnitError("PTY_INPUT_BLOCKED", ex.Message, "The program is not reading its input (busy, or stopped with Ctrl-Z?): check the session's output, or send a signal."));
                }

                return OperationResult.Ok($"wrote {bytes.Length} bytes");
            case "resize":
                var cols = arguments.GetProperty("cols").GetInt64();
                var rows = arguments.GetProperty("rows").GetInt64();
                if (cols is < 2 or > 1000 || rows is < 2 or > 1000)
                {
                    return OperationResult.InvalidArguments($"{cols}×{rows} is not a terminal size", "Give cols and rows between 2 and 1000.");
                }

                var size = new TerminalSize((int)cols, (int)rows);

                await terminal.ResizeAsync(size, cancellationToken).ConfigureAwait(false);
                return OperationResult.Ok($"resized to {size.Columns}×{size.Rows}");
            case "scrollback":
                var all = terminal.Scrollback();
                var max = arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty("maxBytes", out var m) ? m.GetInt64() : all.Length;
                if (max < 0)
                {
                    return OperationResult.InvalidArguments($"maxBytes {max} is negative", "Give maxBytes as 0 or more (more than is kept returns all of it), or leave it out.");
                }

                var tail = all[(int)Math.Max(0, all.Length - Math.Min(max, all.Length))..];
                return OperationResult.Ok($"{tail.Length} bytes", JsonSerializer.SerializeToElement(new JsonObject
                {
                    ["bytes"] = tail.Length,
                    ["text"] = Encoding.UTF8.GetString(tail.Span),
                    ["base64"] = Convert.ToBase64String(tail.Span),
                }));
            case "signal":
                var name = arguments.GetProperty("signal").GetString()!.Trim();
                name = name.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? name[3..] : name;
                if (!Signals.ByName.TryGetValue(name, out var number))
                {
                    return OperationResult.Fail(new UnitError("UNKNOWN_SIGNAL", $"\"{name}\" is not a signal this operation sends.", "One of " + string.Join(", ", Signals.ByName.Keys) + "."));
                }

                var errno = Signals.SendToGroup(process.ProcessGroupId, number);
                return errno == 0 ? OperationResult.Ok($"sent SIG{name.ToUpperInvariant()} to process group {process.ProcessGroupId}")
                    : OperationResult.Fail($"kill failed with errno {errno}");
            default:
                return OperationResult.Fail($"pty-session does not offer \"{operation}\"");
        }
    }

    /// <returns>The bytes to send; null when base64 is not base64 or text is not valid Unicode.</returns>
    private static byte[]? Input(JsonElement arguments)
    {
        try
        {
            if (arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty("base64", out var raw) && raw.GetString() is { } base64)
            {
                return Convert.FromBase64String(base64);
            }

            return arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty("text", out var text) ? Encoding.UTF8.GetBytes(text.GetString() ?? "") : [];
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            // FormatException: not base64; InvalidOperationException: a JSON string with a lone surrogate (\ud800) has no UTF-8.
            return null;
        }
    }

    /// <summary>The session's terminal as the program sees it (/dev/pts/N), from /proc.</summary>
    private static string? Tty(int pid)
    {
        try
        {
            var target = new FileInfo($"/proc/{pid}/fd/0").LinkTarget;
            return target?.StartsWith("/dev/pts/", StringComparison.Ordinal) == true ? target : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }


    private static UnitErrorException Fail(string code, string message, string remedy) => new(new UnitError(code, message, remedy));
}
