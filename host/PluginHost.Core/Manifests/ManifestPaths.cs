namespace PluginHost.Core.Manifests;

/// <summary>File names as shown in messages: relative to the working directory when inside it.</summary>
internal static class ManifestPaths
{
    public static string Display(string path)
    {
        var full = Path.GetFullPath(path);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, full);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
    }

    public static bool IsUnitFile(string path)
    {
        var name = Path.GetFileName(path);
        return (name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            && !name.Equals(HostManifestReader.FileName, StringComparison.OrdinalIgnoreCase)
            && !name.StartsWith('.');
    }
}
