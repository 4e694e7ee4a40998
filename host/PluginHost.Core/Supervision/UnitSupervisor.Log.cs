using Microsoft.Extensions.Logging;

namespace PluginHost.Core.Supervision;

internal sealed partial class UnitSupervisor
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Unit {Unit}: {From} -> {To} ({Reason})")]
    private partial void LogTransition(string unit, string from, string to, string reason);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Unit {Unit}: {Request}")]
    private partial void LogRequest(string unit, string request);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Unit {Unit}: the plugin's {Method} failed: {Message}")]
    private partial void LogDriverFailed(string unit, string method, string message);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Unit {Unit}: its output holder (pid {Pid}) died; pid {Replacement} holds its pipes now")]
    private partial void LogHolderReplaced(string unit, int pid, int replacement);

    [LoggerMessage(EventId = 305, Level = LogLevel.Error, Message = "Unit {Unit}: its output holder (pid {Pid}) died and none could replace it [OUTPUT_HOLDER_LOST]: a host crash would now end it with SIGPIPE; restart it")]
    private partial void LogHolderLost(string unit, int pid);

    [LoggerMessage(EventId = 306, Level = LogLevel.Error, Message = "Unit {Unit}: not stopped within {Deadline} (its grace and 30 s more); its processes are killed")]
    private partial void LogStopStuck(string unit, string deadline);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "Unit {Unit}: supervision loop error: {Error}")]
    private partial void LogLoopFailed(string unit, string error);
}
