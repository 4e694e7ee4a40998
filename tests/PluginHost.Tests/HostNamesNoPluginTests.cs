using System.Text.RegularExpressions;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests;

/// <summary>
/// The host knows no plugin by name (DESIGN.md §7): what a plugin's units show, link to and say
/// comes from the plugin through the contracts. A plugin's name or kind in the host's C#, JavaScript,
/// HTML or CSS is a special case to move into the plugin.
/// </summary>
public sealed partial class HostNamesNoPluginTests
{
    /// <summary>
    /// Every plugin in plugins/ by name and kind, and the families still to come. "process" is left
    /// out: it is an English word the host uses for what it supervises.
    /// </summary>
    private static string[] Names() =>
    [
        .. Directory.GetFiles(Path.Combine(RepositoryLayout.Root, "plugins"), "plugin.yaml", SearchOption.AllDirectories)
            .SelectMany(f => File.ReadLines(f))
            .Select(l => NameOrKinds().Match(l)).Where(m => m.Success)
            .SelectMany(m => m.Groups[2].Value.Trim('[', ']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)),
        "station-batch", "launchd-service",
    ];

    [Fact]
    public void No_plugin_is_named_in_the_hosts_code_or_dashboard()
    {
        var names = Names().Where(n => n != "process").Distinct(StringComparer.Ordinal).ToArray();
        Assert.Contains("python-server", names); // the list is read right
        Assert.Contains("shimmy", names);

        var sources = Directory.GetFiles(Path.Combine(RepositoryLayout.Root, "host"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".js", StringComparison.Ordinal) || f.EndsWith(".html", StringComparison.Ordinal) || f.EndsWith(".css", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToArray();
        Assert.NotEmpty(sources);

        var found = sources.SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(RepositoryLayout.Root, f), Line: i + 1, Text: line)))
            .Where(l => names.Any(n => Regex.IsMatch(l.Text, $@"(?<![\w-]){Regex.Escape(n)}(?![\w-])", RegexOptions.IgnoreCase)))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToArray();
        Assert.True(found.Length == 0, "the host names plugins:\n" + string.Join("\n", found));
    }

    [GeneratedRegex(@"^(name|kinds):\s*(.+)$")]
    private static partial Regex NameOrKinds();
}
