using System.Globalization;
using System.Text;

namespace PluginHost.Core.Plugins;

/// <summary>
/// A cheap identity of a folder's content (relative names, sizes, write times): a watcher event
/// whose folder has the same stamp as the loaded version is not a new build. Kept as plain text
/// (a few lines per file): hashing it would load the crypto libraries (≈ 5 MB of RSS) for nothing.
/// </summary>
internal static class ContentStamp
{
    public static string Of(string directory)
    {
        var text = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            text.Append(Path.GetRelativePath(directory, file)).Append('|')
                .Append(info.Length.ToString(CultureInfo.InvariantCulture)).Append('|')
                .Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }
}
