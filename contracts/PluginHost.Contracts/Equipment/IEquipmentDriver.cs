namespace PluginHost.Contracts.Equipment;

/// <summary>
/// An instrument driver used by station sequences inside batch worker processes (Modbus TCP,
/// SCPI over TCP, simulated instruments). Commands are text in the driver's own documented syntax
/// (SCPI commands as they are; Modbus as e.g. <c>read holding 100 2</c>), so sequences stay portable.
/// A driver instance talks to one instrument and is not shared between threads.
/// </summary>
public interface IEquipmentDriver : IAsyncDisposable
{
    ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken);

    ValueTask DisconnectAsync(CancellationToken cancellationToken);

    ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken);

    /// <summary>Sends a command that answers, and returns the answer.</summary>
    ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken);

    /// <summary>Sends a command that does not answer.</summary>
    ValueTask WriteAsync(string command, CancellationToken cancellationToken);
}

/// <summary>Where an instrument is: host and port for TCP instruments, plus driver-specific options.</summary>
public sealed record EquipmentEndpoint(string Address, int Port)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
}

public sealed record EquipmentIdentity(string Vendor, string Model, string SerialNumber, string Firmware);

/// <summary>An instrument's answer, as text and as the raw bytes received.</summary>
public sealed record EquipmentReply(string Text, ReadOnlyMemory<byte> Raw);

/// <summary>An instrument that did not answer or answered with an error; <see cref="Code"/> is stable.</summary>
public sealed class EquipmentException : Exception
{
    public EquipmentException()
        : this("EQUIPMENT_ERROR", "The instrument reported an error.")
    {
    }

    public EquipmentException(string message)
        : this("EQUIPMENT_ERROR", message)
    {
    }

    public EquipmentException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = "EQUIPMENT_ERROR";
    }

    public EquipmentException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public string Code { get; }
}
