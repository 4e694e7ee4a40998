using Microsoft.Extensions.Logging;

namespace PluginHost.Core.Plugins;

internal sealed partial class PluginReloader
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Plugin {Plugin} {Version} loaded: kinds [{Kinds}] in {Milliseconds:F1} ms")]
    private partial void LogLoaded(string plugin, string version, string kinds, double milliseconds);

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Plugin {Plugin} failed to load: {Reason} {Remedy}")]
    private partial void LogLoadFailed(string plugin, string reason, string remedy);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Plugin {Plugin} reloaded {From} -> {To} in {Milliseconds:F1} ms; {HandedOver} unit(s) handed over, {Restarted} restarted")]
    private partial void LogReloaded(string plugin, string from, string to, double milliseconds, int handedOver, int restarted);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Plugin {Plugin} reload failed; version {Running} keeps running: {Reason} {Remedy}")]
    private partial void LogReloadFailed(string plugin, string running, string reason, string remedy);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "Plugin {Plugin} {Version} was unloaded but is still alive after {Cycles} GC cycles: its memory leaks until the host restarts")]
    private partial void LogLeak(string plugin, string version, int cycles);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Plugin {Plugin} threw while being disposed: {Message}")]
    private partial void LogDisposeFailed(string plugin, string message);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Unit {Unit}: the new version of plugin {Plugin} refused to adopt its process ({Reason}); restarting it")]
    private partial void LogAttachRefused(string unit, string plugin, string reason);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Plugin {Plugin} {Version}: route handlers still running {Seconds} s after it was replaced (they ignore their cancellation token); unloading anyway")]
    private partial void LogRoutesBusy(string plugin, string version, double seconds);
}
