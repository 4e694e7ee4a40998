using System.Text.RegularExpressions;

namespace PluginHost.Core.Manifests;

/// <summary>
/// Unit names become file names (logs, data folders) and URL segments, so they are restricted to
/// letters, digits, '-', '_' and '.', start with a letter or digit, and are at most 64 characters:
/// no path separator or ".." can ever reach the file system through a name.
/// </summary>
internal static partial class UnitNames
{
    public const string Expected = "a name of letters, digits, '-', '_' or '.', starting with a letter or digit, at most 64 characters";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>Names the host's own files take in DATA/logs/ (alerts.log, host.log when installed under launchd): no unit may have them.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "alerts", "host", "host.error" };

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();
}
