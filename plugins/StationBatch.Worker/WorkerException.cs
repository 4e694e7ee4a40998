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

    public string Code { get; }
}
