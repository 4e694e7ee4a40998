using System.Text.RegularExpressions;
using PluginHost.Contracts.Units;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision.Launch;

/// <summary>
/// Turns a driver's launch plan into what is spawned: <c>{port:NAME}</c>, <c>{unit}</c> and
/// <c>{data}</c> replaced in arguments and environment values; the working directory defaults to
/// the unit's data folder.
/// </summary>
internal static partial class Placeholders
{
    public static SpawnRequest Resolve(LaunchPlan plan, IUnitContext context)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(context);
        string Expand(string text) => Pattern().Replace(text, m => m.Groups["port"].Success
            ? (context.Ports.TryGetValue(m.Groups["port"].Value, out var port)
                ? port.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : throw new UnitErrorException(new UnitError("UNKNOWN_PORT", $"The launch plan uses {{port:{m.Groups["port"].Value}}}, which the unit does not declare.",
                    "Declare the port in the unit's ports section.")))
            : m.Value == "{unit}" ? context.UnitName : context.DataDirectory);

        return new SpawnRequest(
            plan.Command,
            plan.Arguments.Select(Expand).ToArray(),
            plan.Environment.ToDictionary(e => e.Key, e => Expand(e.Value), StringComparer.Ordinal),
            plan.WorkingDirectory ?? context.DataDirectory);
    }

    [GeneratedRegex(@"\{port:(?<port>[A-Za-z0-9._-]+)\}|\{unit\}|\{data\}")]
    private static partial Regex Pattern();
}
