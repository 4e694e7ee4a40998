using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision;

/// <summary>A driver's handle on its own unit (<see cref="IUnitContext.Control"/>): the same requests as the API's routes.</summary>
internal sealed class UnitControl(UnitSupervisor unit) : IUnitControl
{
    public UnitState State => unit.State;

    public UnitControlResult Start(string reason) => Answer(unit.Start(reason));

    public UnitControlResult Stop(string reason) => Answer(unit.Stop(reason));

    public UnitControlResult Restart(string reason) => Answer(unit.Restart(reason));

    public UnitControlResult GiveUp(UnitError error) => Answer(unit.GiveUp(error));

    public Task WhenReadyAsync(CancellationToken cancellationToken) => unit.WhenReadyOrSettledAsync(cancellationToken);

    public Task WhenStoppedAsync(CancellationToken cancellationToken) => unit.WhenStoppedAsync(cancellationToken);

    private UnitControlResult Answer(UnitCommandResult result) => new(result.Success, result.Message, unit.State);
}
