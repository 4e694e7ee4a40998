namespace PluginHost.Core.Processes;

/// <summary>Finds a command as a shell would: a path as given, else the first executable of that name on PATH.</summary>
internal static class Executables
{
    public static string? Find(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, command);
            if (File.Exists(candidate) && LibC.access(candidate, LibC.X_OK) == 0)
            {
                return candidate;
            }
        }

        return null;
    }
}
