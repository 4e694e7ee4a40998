using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Equipment;
using PluginHost.Station.Protocol;
using PluginHost.Station.Worker.Drivers;

namespace PluginHost.Station.Worker.Sequences;

/// <summary>
/// Runs one execution of a sequence: setup, main, then teardown — always, after a stop, a failure
/// with <c>onFail: stop</c>, an error or a driver fault. A failing setup step skips main. Each step
/// is STEP_START then STEP_COMPLETE; a failing step with <c>repeat: N</c> runs up to N more times;
/// a step past its timeout is an ERROR. The verdict is the worst outcome of all steps. After every
/// attempt of a step, the instruments of <c>connect: step</c> slots are let go.
/// </summary>
internal sealed class SequenceRunner(
    Sequence sequence,
    IReadOnlyDictionary<string, Instrument> instruments,
    IReadOnlyDictionary<string, JsonNode?> parameters,
    Action<string, JsonObject> publish,
    TimeProvider time,
    PackageCode? code = null)
{
    private int _completed;
    private volatile bool _ended;

    /// <summary>The step running now, for GET_STATUS.</summary>
    public string? CurrentStep { get; private set; }

    /// <summary>
    /// Steps completed over the sequence's steps (repeats not counted twice), 0 to 1, for GET_STATUS and the
    /// heartbeat; 1 once the run has ended, though steps skipped by a stop or a failure never ran.
    /// </summary>
    public double Progress => _ended ? 1 : Math.Min(1, Volatile.Read(ref _completed) / (double)Math.Max(1, sequence.Setup.Count + sequence.Main.Count + sequence.Teardown.Count));

    /// <param name="stop">A stop asked for: honoured at the next step boundary of setup or main; teardown still runs.</param>
    public async Task<SequenceResult> RunAsync(CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        var verdict = Outcome.Skipped;
        var stopped = false;
        var steps = 0;

        async Task<bool> RunGroupAsync(IReadOnlyList<Step> group, bool stoppable)
        {
            foreach (var step in group)
            {
                if (stoppable && stop.IsCancellationRequested)
                {
                    stopped = true;
                    Log("info", $"stopped before {step.Group} step \"{step.Name}\"");
                    return false;
                }

                var outcome = await RunStepAsync(step).ConfigureAwait(false);
                steps++;
                verdict = Outcomes.Worst(verdict, outcome);
                if (outcome >= Outcome.Fail && (step.OnFail == FailAction.Stop || step.Group == "setup"))
                {
                    Log("warning", $"{step.Group} step \"{step.Name}\" ended {Outcomes.Name(outcome)}: going to teardown");
                    return false;
                }
            }

            return true;
        }

        try
        {
            if (await RunGroupAsync(sequence.Setup, stoppable: true).ConfigureAwait(false))
            {
                await RunGroupAsync(sequence.Main, stoppable: true).ConfigureAwait(false);
            }
        }
        finally
        {
            // Teardown is not stoppable: it powers the DUT off.
            await RunGroupAsync(sequence.Teardown, stoppable: false).ConfigureAwait(false);
            CurrentStep = null;
            _ended = true;
        }

        return new SequenceResult(verdict, stopped, steps, Stopwatch.GetElapsedTime(started));
    }

    private async Task<Outcome> RunStepAsync(Step step)
    {
        CurrentStep = $"{step.Group}/{step.Name}";
        var started = Stopwatch.GetTimestamp();
        StepAttempt attempt = null!;
        var attempts = 0;
        for (var i = 0; i <= step.Repeat; i++)
        {
            attempts++;
            publish(MessageTypes.StepStart, new JsonObject
            {
                ["group"] = step.Group,
                ["index"] = step.Index,
                ["step"] = step.Name,
                ["attempt"] = attempts,
            });
            attempt = await AttemptAsync(step).ConfigureAwait(false);
            await StepEndedAsync(step).ConfigureAwait(false);
            if (attempt.Outcome is Outcome.Pass or Outcome.Skipped || i == step.Repeat)
            {
                break;
            }

            Log("info", $"step \"{step.Name}\" ended {Outcomes.Name(attempt.Outcome)}; repeating ({i + 1} of {step.Repeat})");
        }

        var body = new JsonObject
        {
            ["group"] = step.Group,
            ["index"] = step.Index,
            ["step"] = step.Name,
            ["outcome"] = Outcomes.Name(attempt.Outcome),
            ["attempts"] = attempts,
            ["durationMs"] = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
        };
        if (attempt.Reply is { } reply)
        {
            body["reply"] = reply;
        }

        if (step.Measurement is { } m && attempt.Value is { } value)
        {
            body["measurement"] = new JsonObject
            {
                ["name"] = m.Name,
                ["value"] = value.Number is { } n ? n : value.Text,
                ["units"] = m.Units,
                ["validator"] = m.Validator.Name,
                ["limits"] = m.Validator.Limits,
                ["marginal"] = attempt.Marginal,
            };
        }

        if (attempt.Error is { } error)
        {
            body["error"] = error.ToJson();
        }

        publish(MessageTypes.StepComplete, body);
        Interlocked.Increment(ref _completed);
        return attempt.Outcome;
    }

    private async Task<StepAttempt> AttemptAsync(Step step)
    {
        using var timeout = new CancellationTokenSource(step.Timeout, time);
        try
        {
            switch (step.Action)
            {
                case StepAction.Wait:
                    await Task.Delay(step.Duration, time, timeout.Token).ConfigureAwait(false);
                    return new StepAttempt(Outcome.Pass);
                case StepAction.Write:
                    await Driver(step).WriteAsync(Command(step), timeout.Token).ConfigureAwait(false);
                    return new StepAttempt(Outcome.Pass);
                case StepAction.Code:
                    return await CodeAsync(step, timeout.Token).ConfigureAwait(false);
                case StepAction.Query:
                    var answer = await Driver(step).QueryAsync(Command(step), timeout.Token).ConfigureAwait(false);
                    return new StepAttempt(Outcome.Pass) { Reply = answer.Text };
                default:
                    var reply = await Driver(step).QueryAsync(Command(step), timeout.Token).ConfigureAwait(false);
                    var value = MeasuredValue.Parse(reply.Text);
                    var verdict = step.Measurement!.Validator.Check(value);
                    return new StepAttempt(verdict.Passed ? Outcome.Pass : Outcome.Fail) { Value = value, Marginal = verdict.Marginal };
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new StepAttempt(Outcome.Error) { Error = new ProtocolError("STEP_TIMEOUT", $"step \"{step.Name}\" did not finish within {PluginHost.Contracts.Specs.Duration.Format(step.Timeout)}") };
        }
        catch (EquipmentException ex)
        {
            return new StepAttempt(Outcome.Error) { Error = new ProtocolError(ex.Code, step.Slot is null ? ex.Message : $"slot {step.Slot}: {ex.Message}", ex.Remedy) };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A driver's bug is this step's error, never the end of the worker.
            return new StepAttempt(Outcome.Error) { Error = new ProtocolError("STEP_FAILED", $"slot {step.Slot}: {ex.GetType().Name}: {ex.Message}") };
        }
    }

    private async Task<StepAttempt> CodeAsync(Step step, CancellationToken cancellationToken)
    {
        var context = new CodeStepContext(parameters, instruments, sequence, cancellationToken, message => Log("info", $"{step.Name}: {message}"));
        var verdict = await (code ?? PackageCode.None).InvokeAsync(step.Command!, context).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (verdict == Steps.StepVerdict.Skip)
        {
            return new StepAttempt(Outcome.Skipped);
        }

        if (step.Measurement is not { } m)
        {
            return new StepAttempt(verdict == Steps.StepVerdict.Pass ? Outcome.Pass : Outcome.Fail);
        }

        if (context.Measured(m.Name) is not { } value)
        {
            return new StepAttempt(Outcome.Error) { Error = new ProtocolError("MEASUREMENT_MISSING", $"step \"{step.Name}\" did not measure \"{m.Name}\" (IStepContext.Measure)") };
        }

        var judged = m.Validator.Check(value);
        var outcome = verdict == Steps.StepVerdict.Pass && judged.Passed ? Outcome.Pass : Outcome.Fail;
        return new StepAttempt(outcome) { Value = value, Marginal = judged.Marginal };
    }

    private Instrument Driver(Step step) => instruments[step.Slot!];

    /// <summary>A step's instruments of <c>connect: step</c> slots disconnect; a failure to do so is logged, never the step's outcome.</summary>
    private async Task StepEndedAsync(Step step)
    {
        foreach (var instrument in instruments.Values)
        {
            using var deadline = new CancellationTokenSource(instrument.Binding.Timeout, time);
            try
            {
                await instrument.StepEndedAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log("warning", $"slot {instrument.Slot} did not disconnect after step \"{step.Name}\": {ex.Message}");
            }
        }
    }

    private string Command(Step step) => Placeholders.Resolve(step.Command!, parameters);

    private void Log(string level, string message) => publish(MessageTypes.Log, new JsonObject { ["level"] = level, ["message"] = message });

    private sealed record StepAttempt(Outcome Outcome)
    {
        public string? Reply { get; init; }

        public MeasuredValue? Value { get; init; }

        public bool Marginal { get; init; }

        public ProtocolError? Error { get; init; }
    }
}

internal sealed record SequenceResult(Outcome Verdict, bool Stopped, int Steps, TimeSpan Duration);
