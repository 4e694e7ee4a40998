using System.Globalization;
using PluginHost.Contracts.Equipment;

namespace PluginHost.Station.Worker.Drivers;

/// <summary>How long a slot's connection lasts (the binding's <c>connect</c>).</summary>
internal enum ConnectionPolicy
{
    /// <summary>Connected before the first step, disconnected after teardown (the default): one connection per execution.</summary>
    Sequence,

    /// <summary>Connected at a step's first command, disconnected when the step ends: for an instrument shared with another station, or one that drops idle connections.</summary>
    Step,
}

/// <summary>
/// One hardware slot's instrument during an execution (or one manual command): the driver behind
/// the contract's promises the worker keeps — <b>one command at a time</b> (a gate, so that a C# step
/// calling from several tasks never overlaps two commands on the wire), the slot's connection policy,
/// and every failure an <see cref="EquipmentException"/>. Steps and C# code see only this.
/// </summary>
internal sealed class Instrument : IEquipmentDriver
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly IEquipmentDriver _driver;
    private readonly Action<Instrument> _disposed;
    private bool _connected;
    private int _disposedOnce;

    internal Instrument(HardwareBinding binding, IEquipmentDriver driver, Action<Instrument> disposed)
    {
        Binding = binding;
        _driver = driver;
        _disposed = disposed;
    }

    public HardwareBinding Binding { get; }

    public string Slot => Binding.Slot;

    /// <summary>Connects now (a <see cref="ConnectionPolicy.Sequence"/> slot, before the first step), so that a missing instrument fails before any step runs.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>The end of a step: a <see cref="ConnectionPolicy.Step"/> slot lets its instrument go.</summary>
    public async Task StepEndedAsync(CancellationToken cancellationToken)
    {
        if (Binding.Connect != ConnectionPolicy.Step)
        {
            return;
        }

        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    ValueTask IEquipmentDriver.ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken) =>
        throw new EquipmentException(EquipmentCodes.BadCommand, $"slot {Slot} is connected by the worker",
            "A C# step uses IStepContext.Instrument(slot) as it is: the binding's connect (sequence or step) decides when it connects.");

    ValueTask IEquipmentDriver.DisconnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken) =>
        OneCommandAsync(d => d.IdentifyAsync(cancellationToken), cancellationToken);

    public ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken) =>
        OneCommandAsync(d => d.QueryAsync(command, cancellationToken), cancellationToken);

    public async ValueTask WriteAsync(string command, CancellationToken cancellationToken) =>
        await OneCommandAsync(async d =>
        {
            await d.WriteAsync(command, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    public ValueTask<IReadOnlyList<EquipmentError>> ReadErrorsAsync(CancellationToken cancellationToken) =>
        OneCommandAsync(d => d.ReadErrorsAsync(cancellationToken), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposedOnce, 1) == 1)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(Binding.Timeout);
        try
        {
            await CloseAsync(deadline.Token).ConfigureAwait(false);
        }
        finally
        {
            await _driver.DisposeAsync().ConfigureAwait(false);
            _disposed(this);
        }
    }

    private async ValueTask<T> OneCommandAsync<T>(Func<IEquipmentDriver, ValueTask<T>> command, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
            return await command(_driver).ConfigureAwait(false);
        }
        catch (EquipmentException ex) when (ex.Code is EquipmentCodes.Disconnected or EquipmentCodes.Timeout)
        {
            // The driver dropped the connection (or a late answer made it close it): connect again at the next command.
            _connected = false;
            throw;
        }
        catch (Exception ex) when (ex is not (EquipmentException or OperationCanceledException or OutOfMemoryException))
        {
            throw new EquipmentException("DRIVER_FAILED", $"the {Binding.Driver} driver threw {ex.GetType().Name}: {ex.Message}",
                $"A bug in the {Binding.Driver} driver plugin (the instrument may be fine): report it with the batch's log.");
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_connected)
        {
            return;
        }

        try
        {
            await _driver.ConnectAsync(Binding.Endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new EquipmentException(EquipmentCodes.Timeout,
                $"{Binding.Driver} at {Binding.Address}:{Binding.Port.ToString(CultureInfo.InvariantCulture)} did not connect in time");
        }

        _connected = true;
    }

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_connected)
        {
            _connected = false;
            await _driver.DisconnectAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
