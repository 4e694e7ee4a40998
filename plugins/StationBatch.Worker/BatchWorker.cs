using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Equipment;
using PluginHost.Station.Protocol;
using PluginHost.Station.Worker.Drivers;
using PluginHost.Station.Worker.Link;
using PluginHost.Station.Worker.Sequences;

namespace PluginHost.Station.Worker;

/// <summary>
/// One batch: answers the master's commands one at a time and runs at most one execution of the
/// batch's sequence at a time. The package is read again at every START_SEQUENCE, and the equipment
/// drivers are looked at again before every execution and manual command: a rebuilt one is loaded
/// anew (<see cref="DriverPlugins"/>); a missing one is a coded error naming its slot.
/// </summary>
internal sealed partial class BatchWorker(WorkerSettings settings, MasterLink link, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<BatchWorker> logger)
    : BackgroundService
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private DriverPlugins? _drivers;
    private volatile Execution? _execution;
    private volatile string _lastVerdict = "";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        link.Status = Status;
        _drivers = new DriverPlugins(settings.Drivers, [.. settings.Hardware.Values], logger);
        try
        {
            await _drivers.CurrentAsync().ConfigureAwait(false); // loaded now, so that a missing driver shows at once
        }
        catch (WorkerException ex)
        {
            LogDriverError(ex.Code, ex.Message);
        }

        link.Start();
        try
        {
            await foreach (var command in link.Commands.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                var reply = await HandleAsync(command).ConfigureAwait(false);
                link.Send(reply);
                if (command.Type == MessageTypes.Shutdown)
                {
                    lifetime.StopApplication();
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // SIGTERM (or SHUTDOWN): the running execution stops at its next step boundary, below.
        }

        await StopExecutionAsync().ConfigureAwait(false);
        await link.DrainAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
        await _drivers.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<Envelope> HandleAsync(Envelope command)
    {
        try
        {
            return command.Type switch
            {
                MessageTypes.StartSequence => await StartAsync(command).ConfigureAwait(false),
                MessageTypes.StopSequence => await StopAsync(command).ConfigureAwait(false),
                MessageTypes.GetStatus => Envelope.Succeeded(command, Status()),
                MessageTypes.ManualControl => await ManualAsync(command).ConfigureAwait(false),
                MessageTypes.Shutdown => await ShutdownAsync(command).ConfigureAwait(false),
                _ => Envelope.Failed(settings.Batch, command.Id, new ProtocolError("UNKNOWN_COMMAND", command.Type)),
            };
        }
        catch (WorkerException ex)
        {
            return Envelope.Failed(settings.Batch, command.Id, ex.Error);
        }
    }

    private async Task<Envelope> StartAsync(Envelope command)
    {
        if (_execution is { } running)
        {
            throw new WorkerException("SEQUENCE_RUNNING", $"execution {running.Id} is still running; stop it first (STOP_SEQUENCE)");
        }

        string? reloaded = null;
        var drivers = await _drivers!.CurrentAsync(note => reloaded = note).ConfigureAwait(false);

        var (sequence, problems) = SequencePackage.Read(settings.Package);
        if (sequence is null)
        {
            throw new WorkerException("PACKAGE_INVALID", string.Join("\n", problems));
        }

        var missing = sequence.Slots.Where(s => !settings.Hardware.ContainsKey(s)).ToArray();
        if (missing.Length > 0)
        {
            throw new WorkerException("SLOT_NOT_BOUND", $"the package needs hardware slot(s) {string.Join(", ", missing)}, which the batch does not bind");
        }

        var parameters = command.Body?["params"] as JsonObject;
        var (values, parameterProblems) = ParameterBinder.Bind(sequence, settings.Parameters, parameters);
        if (parameterProblems.Count > 0)
        {
            throw new WorkerException("INVALID_PARAMETERS", string.Join("\n", parameterProblems));
        }

        var (code, codeProblems) = PackageCode.Load(sequence);
        if (code is null)
        {
            throw new WorkerException("PACKAGE_INVALID", string.Join("\n", codeProblems));
        }

        var id = $"{settings.Batch}-{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid().ToString("N")[..8]}";
        var execution = new Execution(id, sequence) { Code = code };
        _execution = execution;
        execution.Task = Task.Run(() => RunAsync(execution, values, drivers, reloaded));
        return Envelope.Succeeded(command, new JsonObject { ["execution"] = id, ["sequence"] = sequence.Name, ["version"] = sequence.Version });
    }

    private async Task RunAsync(Execution execution, IReadOnlyDictionary<string, JsonNode?> parameters, DriverCatalog drivers, string? reloaded)
    {
        void Publish(string type, JsonObject body) => link.Publish(execution.Id, type, body);
        var instruments = new Dictionary<string, Instrument>(StringComparer.Ordinal);
        try
        {
            Publish(MessageTypes.SequenceStart, new JsonObject
            {
                ["sequence"] = execution.Sequence.Name,
                ["version"] = execution.Sequence.Version,
                ["parameters"] = new JsonObject(parameters.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))),
            });
            if (reloaded is not null)
            {
                Publish(MessageTypes.Log, new JsonObject { ["level"] = "info", ["message"] = reloaded });
            }

            foreach (var slot in execution.Sequence.Slots)
            {
                var instrument = drivers.Open(settings.Hardware[slot]);
                instruments[slot] = instrument;
                if (instrument.Binding.Connect == ConnectionPolicy.Sequence)
                {
                    // Connected before the first step: a missing instrument fails the execution before anything is powered.
                    using var timeout = new CancellationTokenSource(ConnectTimeout, time);
                    try
                    {
                        await instrument.OpenAsync(timeout.Token).ConfigureAwait(false);
                    }
                    catch (EquipmentException ex)
                    {
                        throw new WorkerException(slot, ex);
                    }
                }
            }

            var runner = new SequenceRunner(execution.Sequence, instruments, parameters, Publish, time, execution.Code);
            execution.Runner = runner;
            var result = await runner.RunAsync(execution.Stop.Token).ConfigureAwait(false);
            _lastVerdict = Outcomes.Name(result.Verdict);
            Publish(MessageTypes.SequenceComplete, new JsonObject
            {
                ["sequence"] = execution.Sequence.Name,
                ["version"] = execution.Sequence.Version,
                ["verdict"] = Outcomes.Name(result.Verdict),
                ["stopped"] = result.Stopped,
                ["steps"] = result.Steps,
                ["durationMs"] = Math.Round(result.Duration.TotalMilliseconds, 3),
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var error = ex is WorkerException w ? w.Error : new ProtocolError("SEQUENCE_FAILED", ex.Message);
            _lastVerdict = "ERROR";
            Publish(MessageTypes.SequenceError, error.ToJson());
        }
        finally
        {
            foreach (var (slot, instrument) in instruments)
            {
                try
                {
                    await instrument.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogDisconnectFailed(slot, ex.Message);
                }
            }

            if (execution.Code is { } code)
            {
                await code.DisposeAsync().ConfigureAwait(false); // unloaded: a rebuilt package is taken up by the next run
            }

            _execution = null;
        }
    }

    private async Task<Envelope> StopAsync(Envelope command)
    {
        var execution = _execution;
        if (execution is null)
        {
            return Envelope.Succeeded(command, new JsonObject { ["stopped"] = false, ["state"] = "idle" });
        }

        await execution.Stop.CancelAsync().ConfigureAwait(false);
        var timeout = TimeSpan.FromSeconds(command.Body?["timeoutMs"]?.GetValue<int>() / 1000.0 ?? 30);
        if (!await Ended(execution, timeout).ConfigureAwait(false))
        {
            throw new WorkerException("STOP_TIMEOUT", $"execution {execution.Id} did not reach a step boundary within {timeout.TotalSeconds} s (step {execution.Runner?.CurrentStep})");
        }

        return Envelope.Succeeded(command, new JsonObject { ["stopped"] = true, ["execution"] = execution.Id });
    }

    private async Task<Envelope> ManualAsync(Envelope command)
    {
        if (_execution is { } running)
        {
            throw new WorkerException("SEQUENCE_RUNNING", $"manual control waits until execution {running.Id} ends: its steps own the instruments");
        }

        var slot = command.Body?["slot"]?.GetValue<string>() ?? throw new WorkerException("INVALID_ARGUMENTS", "MANUAL_CONTROL needs body.slot");
        var text = command.Body?["command"]?.GetValue<string>() ?? throw new WorkerException("INVALID_ARGUMENTS", "MANUAL_CONTROL needs body.command");
        if (!settings.Hardware.TryGetValue(slot, out var binding))
        {
            throw new WorkerException("SLOT_NOT_BOUND", $"no hardware slot \"{slot}\" in batch {settings.Batch} ({string.Join(", ", settings.Hardware.Keys)})");
        }

        var drivers = await _drivers!.CurrentAsync().ConfigureAwait(false);
        await using var instrument = drivers.Open(binding);
        using var timeout = new CancellationTokenSource(ConnectTimeout, time);
        try
        {
            if (text.Contains('?', StringComparison.Ordinal))
            {
                var reply = await instrument.QueryAsync(text, timeout.Token).ConfigureAwait(false);
                return Envelope.Succeeded(command, new JsonObject { ["reply"] = reply.Text });
            }

            await instrument.WriteAsync(text, timeout.Token).ConfigureAwait(false);
            return Envelope.Succeeded(command, new JsonObject { ["written"] = text });
        }
        catch (EquipmentException ex)
        {
            throw new WorkerException(slot, ex);
        }
        catch (OperationCanceledException)
        {
            throw new WorkerException(slot, new EquipmentException(EquipmentCodes.Timeout, $"no answer within {ConnectTimeout.TotalSeconds} s"));
        }
    }

    private async Task<Envelope> ShutdownAsync(Envelope command)
    {
        await StopExecutionAsync().ConfigureAwait(false);
        return Envelope.Succeeded(command, new JsonObject { ["state"] = "shutdown" });
    }

    private async Task StopExecutionAsync()
    {
        if (_execution is { } execution)
        {
            await execution.Stop.CancelAsync().ConfigureAwait(false);
            await Ended(execution, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
    }

    private async Task<bool> Ended(Execution execution, TimeSpan timeout)
    {
        try
        {
            await execution.Task!.WaitAsync(timeout, time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private JsonObject Status()
    {
        var execution = _execution;
        var status = new JsonObject
        {
            ["state"] = execution is null ? (_drivers?.LastFailure is null ? "idle" : "faulted") : "running",
            ["execution"] = execution?.Id,
            ["sequence"] = execution?.Sequence.Name,
            ["step"] = execution?.Runner?.CurrentStep,
            ["progress"] = execution?.Runner is { } runner ? Math.Round(runner.Progress, 3) : null,
            ["lastVerdict"] = _lastVerdict.Length == 0 ? null : _lastVerdict,
        };
        if (_drivers?.LastFailure is { } failure)
        {
            status["error"] = failure.Error.ToJson();
        }

        return status;
    }

    private sealed class Execution(string id, Sequence sequence)
    {
        public string Id { get; } = id;

        public Sequence Sequence { get; } = sequence;

        public CancellationTokenSource Stop { get; } = new();

        public Task? Task { get; set; }

        public SequenceRunner? Runner { get; set; }

        public PackageCode? Code { get; init; }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "equipment drivers unavailable: {Code}: {Message}")]
    private partial void LogDriverError(string code, string message);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "slot {Slot} did not disconnect cleanly: {Message}")]
    private partial void LogDisconnectFailed(string slot, string message);
}
