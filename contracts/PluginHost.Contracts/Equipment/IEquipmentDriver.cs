namespace PluginHost.Contracts.Equipment;

/// <summary>
/// An instrument driver used by station sequences inside batch worker processes (Modbus TCP,
/// SCPI over TCP, simulated instruments). Commands are text in the driver's own documented syntax
/// (SCPI commands as they are; Modbus as e.g. <c>read holding 100 2</c>), so sequences stay portable.
/// </summary>
/// <remarks>
/// What the worker promises a driver, and what it expects (docs/drivers.md):
/// <list type="bullet">
/// <item>One instance talks to one instrument, and is called <b>one command at a time</b>: the worker
/// never overlaps two calls on an instance (a C# step that calls from several tasks is serialized
/// by the worker), so a driver needs no lock of its own.</item>
/// <item>The worker connects an instance once per execution, or once per step (the binding's
/// <c>connect: step</c>, for an instrument shared with another station), so an instance must connect
/// again after <see cref="DisconnectAsync"/>. Every call takes a token cancelled at its deadline.</item>
/// <item>Every failure is an <see cref="EquipmentException"/> with a stable code and a remedy
/// (<see cref="EquipmentCodes"/>); anything else a driver throws is reported as a driver bug.</item>
/// <item><see cref="IAsyncDisposable.DisposeAsync"/> closes what the instance holds (its socket): it is
/// called before the driver's plugin is unloaded.</item>
/// </list>
/// </remarks>
public interface IEquipmentDriver : IAsyncDisposable
{
    ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken);

    ValueTask DisconnectAsync(CancellationToken cancellationToken);

    ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken);

    /// <summary>Sends a command that answers, and returns the answer.</summary>
    ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken);

    /// <summary>Sends a command that does not answer.</summary>
    ValueTask WriteAsync(string command, CancellationToken cancellationToken);

    /// <summary>
    /// (since 1.6) Reads the instrument's error queue to the end, oldest first, and so empties it
    /// (SCPI: <c>SYST:ERR?</c> until <c>0,"No error"</c>). An instrument without one has none to report.
    /// </summary>
    ValueTask<IReadOnlyList<EquipmentError>> ReadErrorsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<EquipmentError>>([]);
}

/// <summary>Where an instrument is: host and port for TCP instruments, plus driver-specific options.</summary>
public sealed record EquipmentEndpoint(string Address, int Port)
{
    /// <summary>How long one command may take (a connection attempt, a query's answer).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
}

public sealed record EquipmentIdentity(string Vendor, string Model, string SerialNumber, string Firmware);

/// <summary>An instrument's answer, as text and as the raw bytes received.</summary>
public sealed record EquipmentReply(string Text, ReadOnlyMemory<byte> Raw);

/// <summary>(since 1.6) One entry of an instrument's error queue: its number (SCPI's, e.g. -113) and its text.</summary>
public sealed record EquipmentError(int Number, string Message);
