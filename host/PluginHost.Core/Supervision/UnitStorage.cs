using PluginHost.Contracts.Units;
using PluginHost.Core.Logs;
using PluginHost.Core.Storage;

namespace PluginHost.Core.Supervision;

/// <summary>
/// What a unit needs on disk before it may join the running set: its data folder and its log file.
/// The engine prepares every unit of a manifest edit before any unit of it starts, so an edit that
/// cannot be set up changes nothing.
/// </summary>
internal static class UnitStorage
{
    public const string UnavailableCode = "UNIT_DATA_UNAVAILABLE";

    /// <param name="log">The log the unit already has (a changed unit keeps it); null to open one.</param>
    /// <exception cref="UnitErrorException"><see cref="UnavailableCode"/> or DISK_FULL, naming the path and what to do.</exception>
    public static UnitLog Prepare(UnitServices services, string unit, UnitLog? log)
    {
        ArgumentNullException.ThrowIfNull(services);
        var data = services.UnitDataDirectory(unit);
        try
        {
            if (File.Exists(data))
            {
                throw new UnitErrorException(new UnitError(UnavailableCode,
                    $"Unit {unit} cannot be set up: {data} is a file, where the unit's data folder belongs.",
                    $"Move or remove {data}, then save the manifest again (or start the host again)."));
            }

            PrivateFiles.CreateFolder(data);
            PrivateFiles.Restrict(data); // made by an earlier host, perhaps 0755
            var path = services.UnitLogPath(unit);
            return log ?? new UnitLog(path, services.Logs, services.Alarm?.Component($"unit {unit}'s log", path, unit));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UnitErrorException(DiskErrors.IsDiskFull(ex)
                ? DiskErrors.DiskFull(services.DataDirectory, $"setting up unit {unit}")
                : new UnitError(UnavailableCode, $"Unit {unit} cannot be set up in {data}: {ex.Message}",
                    $"Make {services.DataDirectory} writable by the host (and {data} a folder), then save the manifest again (or start the host again)."));
        }
    }
}
