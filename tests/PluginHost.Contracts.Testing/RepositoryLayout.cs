using System.Reflection;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// Where things are in this repository: found from the running test assembly, or — for a plugin's
/// tests that live elsewhere (a project made by <c>pluginhost new</c>) — the repository this kit
/// was built from.
/// </summary>
public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build output folder of a real plugin (artifacts/plugins/NAME).</summary>
    public static string Plugin(string folder) => Path.Combine(Root, "artifacts", "plugins", folder);

    /// <summary>The build output folder of a test plugin (artifacts/test-plugins/NAME).</summary>
    public static string TestPlugin(string folder) => Path.Combine(Root, "artifacts", "test-plugins", folder);

    /// <summary>Copies a plugin folder so a test can change or break it without touching the build output.</summary>
    public static string CopyPlugin(string source, string targetRoot, string? folderName = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var target = Path.Combine(targetRoot, folderName ?? Path.GetFileName(source));
        CopyDirectory(source, target);
        return target;
    }

    public static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        foreach (var directory in Directory.EnumerateDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PluginHost.sln")))
            {
                return dir.FullName;
            }
        }

        var builtFrom = typeof(RepositoryLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "PluginHostRoot")?.Value;
        if (builtFrom is not null && File.Exists(Path.Combine(builtFrom, "PluginHost.sln")))
        {
            return Path.TrimEndingDirectorySeparator(builtFrom);
        }

        throw new InvalidOperationException($"PluginHost.sln not found above {AppContext.BaseDirectory} nor at {builtFrom}, where the contract kit was built");
    }
}
