using PluginHost.Contracts.Units;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// Stands in for the host's supervision in driver tests: records requests and moves between
/// states only when the test says so (<see cref="MoveTo"/>), so what an operation does while the unit
/// is starting, ready or failed can be checked without a running host.
/// </summary>
public sealed class TestUnitControl : IUnitControl
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private UnitState _state = UnitState.Idle;
    private UnitError? _error;

    public UnitState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Every request, in order: "start: reason", "stop: reason", "restart: reason".</summary>
    public List<string> Requests { get; } = [];

    public UnitControlResult Start(string reason) => Record("start", reason);

    public UnitControlResult Stop(string reason) => Record("stop", reason);

    public UnitControlResult Restart(string reason) => Record("restart", reason);

    public UnitControlResult GiveUp(UnitError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var answer = Record("give up", error.Code);
        MoveTo(UnitState.Failed, error);
        return answer;
    }

    /// <summary>Moves the unit as the host would; failed and stopped carry the error <see cref="WhenReadyAsync"/> throws.</summary>
    public void MoveTo(UnitState state, UnitError? error = null)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _state = state;
            _error = error;
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public Task WhenReadyAsync(CancellationToken cancellationToken) => WaitUntilAsync(state => state switch
    {
        UnitState.Ready => true,
        UnitState.Failed or UnitState.Stopped => throw new UnitErrorException(_error ?? new UnitError("UNIT_NOT_RUNNING", $"The unit is {state}.", "Start it.")),
        _ => false,
    }, cancellationToken);

    public Task WhenStoppedAsync(CancellationToken cancellationToken) =>
        WaitUntilAsync(state => state is UnitState.Stopped or UnitState.Failed or UnitState.Idle, cancellationToken);

    /// <param name="done">Asked under the lock at each state; may throw to end the wait with an error.</param>
    private async Task WaitUntilAsync(Func<UnitState, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (done(_state))
                {
                    return;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private UnitControlResult Record(string request, string reason)
    {
        lock (_gate)
        {
            Requests.Add($"{request}: {reason}");
            return new UnitControlResult(true, $"{request} requested", _state);
        }
    }
}
