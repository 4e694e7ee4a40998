using Microsoft.Extensions.Logging;
using PluginHost.Core.Events;
using PluginHost.Core.Logs;
using PluginHost.Core.Storage;

using PluginHost.Core.Supervision.Health;

namespace PluginHost.Core.Supervision;

/// <summary>What every unit of a host shares: clock, events, ports, probes, folders, settings.</summary>
internal sealed record UnitServices(
    TimeProvider Time,
    EventBus Events,
    PortAllocator Ports,
    ProbeRunner Probes,
    string DataDirectory,
    LogSettings Logs,
    ILoggerFactory Loggers,
    Func<double> Random,
    Journal? Journal = null,
    StorageAlarm? Alarm = null)
{
    public string UnitDataDirectory(string unit) => Path.Combine(DataDirectory, "units", unit);

    public string PluginDataDirectory(string plugin) => Path.Combine(DataDirectory, "plugin-data", plugin);

    public string UnitLogPath(string unit) => Path.Combine(DataDirectory, "logs", unit + ".log");
}
