using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Process;

namespace PluginHost.Plugins.PythonServer;

/// <summary>
/// Runs <c>python -m uvicorn APP --host H --port {port:http} --app-dir DIR</c>: preflight (python
/// found, uvicorn and fastapi importable), HTTP readiness on the allocated port, SIGTERM first so
/// uvicorn finishes in-flight requests, the seed's status and events, and coded errors whose
/// messages carry the Python traceback's last lines.
/// </summary>
internal sealed partial class PythonServerDriver : IUnitDriver
{
    public const string Kind = "python-server";
    private const string LastErrorKey = "python-server.lastError";

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => PythonServerSpec.Read(spec).Problems;

    public UnitDefaults Defaults(SpecMapping spec)
    {
        var (server, _) = PythonServerSpec.Read(spec);
        return new UnitDefaults
        {
            Health = new HealthSettings
            {
                Readiness = new HttpProbe(server.ReadinessPath, "http") { Interval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromSeconds(2) },
                StartTimeout = TimeSpan.FromSeconds(60),
            },
            Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(10)),
        };
    }

    public IReadOnlyList<PortRequest> RequestPorts(SpecMapping spec)
    {
        var (server, _) = PythonServerSpec.Read(spec);
        return [new PortRequest("http", server.Port, server.PortScan)];
    }

    public async ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (server, problems) = PythonServerSpec.Read(context.Spec);
        if (problems.Count > 0)
        {
            throw new UnitErrorException(new UnitError("INVALID_SPEC", "The unit's spec is invalid: " + string.Join("; ", problems),
                "Fix the manifest as described; `pluginhost validate` lists every problem."));
        }

        var appDirectory = Path.GetFullPath(Path.Combine(context.ManifestDirectory, server.AppDirectory ?? "."));
        if (!Directory.Exists(appDirectory))
        {
            throw new UnitErrorException(new UnitError("APP_DIR_NOT_FOUND", $"The app directory {appDirectory} does not exist.",
                "Fix spec.appDir (relative paths start at the manifest's folder)."));
        }

        var python = server.Python == PythonServerSpec.AutoPython
            ? await PythonPreflight.FindAsync(appDirectory, cancellationToken).ConfigureAwait(false)
            : CommandLocator.Resolve(server.Python, appDirectory)
            ?? throw new UnitErrorException(new UnitError("PYTHON_NOT_FOUND", $"The python interpreter \"{server.Python}\" was not found or is not executable.",
                "Install Python 3, or set spec.python to an interpreter's path (a virtualenv's bin/python works), or to auto."));
        if (await PythonPreflight.CheckAsync(python, cancellationToken).ConfigureAwait(false) is { } missing)
        {
            throw new UnitErrorException(missing);
        }

        var environment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal) { ["PYTHONUNBUFFERED"] = "1" };
        foreach (var (name, value) in server.Environment)
        {
            environment[name] = value;
        }

        return new LaunchPlan(python)
        {
            Arguments = ["-m", "uvicorn", server.App, "--host", server.Host, "--port", "{port:http}", "--app-dir", appDirectory, .. server.UvicornArguments],
            Environment = environment,
            WorkingDirectory = appDirectory,
            OutputEventKind = "python-log",
        };
    }

    public UnitError Classify(UnitFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var lines = failure.RecentOutput?.Select(l => l.Text).ToArray() ?? [];
        var tail = Traceback(lines);
        if (failure.Kind == FailureKind.GaveUp)
        {
            return new UnitError("CRASH_LOOP", $"The server kept exiting and the host stopped restarting it: {failure.Message}" + (tail.Length > 0 ? $"\nLast output:\n{tail}" : ""),
                "Read the last output above and the unit's logs; fix the app, then start it again (start resets the restart count).");
        }

        if (lines.Any(l => l.Contains("address already in use", StringComparison.OrdinalIgnoreCase)))
        {
            return new UnitError("PORT_IN_USE", "uvicorn could not bind its port: another process took it after the host chose it.",
                "Free the port, or give spec.port another preferred port; the host scans spec.portScan ports after it.");
        }

        if (lines.Any(l => l.Contains("Error loading ASGI app", StringComparison.Ordinal) || l.Contains("Traceback (most recent call last)", StringComparison.Ordinal)
            || l.Contains("SyntaxError", StringComparison.Ordinal) || l.Contains("ModuleNotFoundError", StringComparison.Ordinal)))
        {
            return new UnitError("APP_IMPORT_FAILED", $"The app could not be loaded by uvicorn:\n{tail}",
                "Fix the error in the app's code (the traceback's last lines are above), or spec.app / spec.appDir if they point at the wrong module.");
        }

        return UnitError.FromFailure(failure with { Message = tail.Length > 0 ? $"{failure.Message}\nLast output:\n{tail}" : failure.Message });
    }

    /// <summary>The last lines of the output, from the start of the last Python traceback when there is one (at most 12).</summary>
    private static string Traceback(string[] lines)
    {
        var start = Array.FindLastIndex(lines, l => l.StartsWith("Traceback (most recent call last)", StringComparison.Ordinal));
        var relevant = start >= 0 ? lines[start..] : lines;
        return string.Join('\n', relevant.TakeLast(12));
    }

    public ValueTask OnStateChangedAsync(IUnitContext context, UnitStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(change);
        if (change.Error is { } error)
        {
            context.State.Set(LastErrorKey, $"{error.Code}: {error.Message}");
        }
        else if (change.To == UnitState.Ready)
        {
            context.State.Set(LastErrorKey, null);
        }

        var status = ServerStatus.Of(change.To);
        if (status != ServerStatus.Of(change.From))
        {
            context.Events.Publish("python-server-status", Status(context, change.To));
        }

        if (change.ExitCode is not null || change.ExitSignal is not null)
        {
            context.Events.Publish("python-server-stopped", new JsonObject { ["code"] = change.ExitCode, ["signal"] = SignalName(change.ExitSignal) });
        }

        if (change.To == UnitState.Ready)
        {
            context.Events.Publish("python-server-ready", new JsonObject { ["port"] = Port(context), ["pid"] = context.Process?.Pid });
        }

        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<UnitOperation> Operations { get; } =
    [
        new("status", "The server's status as the seed defines it: status, pid, port, uptime, lastError and recent logs."),
        new("start", "Starts the server; with wait, answers once it serves (or with the error that stopped it).") { Parameters = [Wait] },
        new("stop", "Stops the server: SIGTERM lets uvicorn finish in-flight requests, then the grace, then SIGKILL.") { Parameters = [Wait] },
        new("restart", "Stops the server and starts it again; the old process is gone before the new one binds the port.") { Parameters = [Wait] },
    ];

    private static readonly OperationParameter Wait = new("wait", OperationParameterType.Boolean, "answer only when the server is running (start, restart) or stopped (stop)");

    public async ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var wait = arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty("wait", out var w) && w.ValueKind == JsonValueKind.True;
        var control = context.Control;
        UnitControlResult? request = operation switch
        {
            "status" => null,
            "start" => control.Start("start requested (python-server operation)"),
            "stop" => control.Stop("stop requested (python-server operation)"),
            "restart" => control.Restart("restart requested (python-server operation)"),
            _ => throw new UnitErrorException(new UnitError("UNKNOWN_OPERATION", $"python-server does not offer \"{operation}\".", "Ask GET /api/units/NAME/ops for the operations.")),
        };
        if (request is { Success: false })
        {
            return Answer(context, false, request.Message);
        }

        if (wait && operation is "start" or "restart")
        {
            try
            {
                await control.WhenReadyAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (UnitErrorException ex)
            {
                return Answer(context, false, $"{context.UnitName} did not start: {ex.Error.Code}: {ex.Error.Message}") with { Error = ex.Error };
            }

            return Answer(context, true, $"{context.UnitName} is running on port {Port(context)}");
        }

        if (wait && operation == "stop")
        {
            await control.WhenStoppedAsync(cancellationToken).ConfigureAwait(false);

            return Answer(context, true, $"{context.UnitName} is stopped");
        }

        return Answer(context, true, request?.Message ?? $"{context.UnitName} is {ServerStatus.Of(control.State)}");
    }

    /// <summary>The seed's answer: success, message and the server's status.</summary>
    private static OperationResult Answer(IUnitContext context, bool success, string message)
    {
        var status = JsonSerializer.SerializeToElement(Status(context, state: null));
        return success ? OperationResult.Ok(message, status) : OperationResult.Fail(message) with { Data = status };
    }

    /// <param name="state">The state being entered, or null for the present one (taken from the process).</param>
    private static JsonObject Status(IUnitContext context, UnitState? state)
    {
        var process = context.Process;
        var status = ServerStatus.Of(state ?? context.Control.State);
        return new JsonObject
        {
            ["status"] = status,
            ["pid"] = process?.Pid,
            ["port"] = Port(context),
            ["uptime"] = process is null ? null : Math.Round((context.Time.GetUtcNow() - process.StartedAt).TotalSeconds, 3),
            ["lastError"] = context.State.Get(LastErrorKey),
            ["logs"] = new JsonArray([.. context.RecentOutput(50).Select(l => (JsonNode?)JsonValue.Create(l.Text))]),
        };
    }

    /// <summary>As Node's child_process reports it (the seed's Electron app): "SIGTERM", "SIGKILL"…</summary>
    private static string? SignalName(int? signal) => signal switch
    {
        null => null,
        2 => "SIGINT",
        9 => "SIGKILL",
        15 => "SIGTERM",
        _ => Enum.IsDefined(typeof(UnixSignal), signal.Value) ? "SIG" + ((UnixSignal)signal.Value).ToString().ToUpperInvariant() : $"SIG{signal}",
    };

    private static int? Port(IUnitContext context) => context.Ports.TryGetValue("http", out var port) ? port : null;
}
