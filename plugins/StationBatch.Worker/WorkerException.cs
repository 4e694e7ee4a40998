using PluginHost.Contracts.Equipment;
using PluginHost.Station.Protocol;

namespace PluginHost.Station.Worker;

/// <summary>A failure of the worker with a stable code (reported in a REPLY or SEQUENCE_ERROR, and as the exit reason).</summary>
internal sealed class WorkerException : Exception
{
    public WorkerException(string code, string message)
        : base(message) => Code = code;

    public WorkerException(string code, string message, Exception inner)
        : base(message, inner) => Code = code;

    public WorkerException()
        : this("WORKER_ERROR", "The worker failed.")
    {
    }

    public WorkerException(string message)
        : this("WORKER_ERROR", message)
    {
    }

    public WorkerException(string message, Exception innerException)
        : this("WORKER_ERROR", message, innerException)
    {
    }

    /// <summary>An instrument's failure, as it reaches the master: its code and remedy, the slot named.</summary>
    public WorkerException(string slot, EquipmentException failure)
        : base($"slot {slot}: {failure?.Message}", failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        Code = failure.Code;
        Remedy = failure.Remedy;
    }

    public string Code { get; }

    /// <summary>What to do, when the worker knows better than the master's remedy for <see cref="Code"/>.</summary>
    public string? Remedy { get; }

    public ProtocolError Error => new(Code, Message, Remedy);
}
