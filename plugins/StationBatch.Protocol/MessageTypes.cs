namespace PluginHost.Station.Protocol;

/// <summary>The message types of protocol version 1, by direction.</summary>
public static class MessageTypes
{
    // master -> worker: commands, each answered by one REPLY with the command's id.
    public const string StartSequence = "START_SEQUENCE";
    public const string StopSequence = "STOP_SEQUENCE";
    public const string GetStatus = "GET_STATUS";
    public const string ManualControl = "MANUAL_CONTROL";
    public const string Shutdown = "SHUTDOWN";

    // master -> worker: not answered.
    public const string Ack = "ACK";
    public const string Hello = "HELLO";

    // worker -> master.
    public const string Reply = "REPLY";
    public const string Heartbeat = "HEARTBEAT";

    /// <summary>An execution's first event: the sequence, its version and the parameters it runs with.</summary>
    public const string SequenceStart = "SEQUENCE_START";
    public const string StepStart = "STEP_START";
    public const string StepComplete = "STEP_COMPLETE";
    public const string Log = "LOG";
    public const string SequenceComplete = "SEQUENCE_COMPLETE";
    public const string SequenceError = "SEQUENCE_ERROR";

    /// <summary>Written by the master, never sent: the execution ended with its worker (a crash, a kill).</summary>
    public const string SequenceAborted = "SEQUENCE_ABORTED";

    public static readonly IReadOnlySet<string> Commands = new HashSet<string>(StringComparer.Ordinal)
    {
        StartSequence, StopSequence, GetStatus, ManualControl, Shutdown,
    };

    /// <summary>Events of an execution: numbered, acknowledged, resent until acknowledged.</summary>
    public static readonly IReadOnlySet<string> ExecutionEvents = new HashSet<string>(StringComparer.Ordinal)
    {
        SequenceStart, StepStart, StepComplete, Log, SequenceComplete, SequenceError,
    };

    public static readonly IReadOnlySet<string> ToWorker = new HashSet<string>(Commands.Append(Ack).Append(Hello), StringComparer.Ordinal);

    public static readonly IReadOnlySet<string> ToMaster = new HashSet<string>(ExecutionEvents.Append(Reply).Append(Heartbeat), StringComparer.Ordinal);

    /// <summary>True for the events that end an execution.</summary>
    public static bool EndsExecution(string type) => type is SequenceComplete or SequenceError or SequenceAborted;
}
