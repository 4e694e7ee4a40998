using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.Shared;

/// <summary>
/// The checks every kind that runs a program makes before a start, with the same codes and words
/// (INVALID_SPEC, CWD_NOT_FOUND, COMMAND_NOT_FOUND): compiled into each such plugin, since plugins
/// share nothing but the contracts. <paramref name="setting"/> arguments name where the operator
/// fixes it (<c>spec.cwd</c>, <c>spec.WorkingDirectory</c>…).
/// </summary>
internal static class LaunchPreflight
{
    public static void RequireValid(IReadOnlyList<SpecProblem> problems)
    {
        if (problems.Count > 0)
        {
            throw new UnitErrorException(new UnitError("INVALID_SPEC", "The unit's spec is invalid: " + string.Join("; ", problems),
                "Fix the manifest as described; `pluginhost validate` lists every problem."));
        }
    }

    /// <returns>The folder a setting names (relative to the manifest's folder, <c>~/</c> expanded), or the unit's data folder when none.</returns>
    public static string WorkingDirectory(IUnitContext context, string? configured, string setting)
    {
        ArgumentNullException.ThrowIfNull(context);
        var folder = configured is null ? context.DataDirectory : Path.GetFullPath(Path.Combine(context.ManifestDirectory, Process.CommandLocator.ExpandHome(configured)));
        return Directory.Exists(folder) ? folder : throw new UnitErrorException(new UnitError("CWD_NOT_FOUND", $"The working directory {folder} does not exist.",
            $"Create it, or fix {setting} (relative paths start at the manifest's folder)."));
    }

    /// <returns>The program's path, looked up as a shell would (<c>~/</c> expanded).</returns>
    public static string Program(string command, string workingDirectory, string setting) =>
        Process.CommandLocator.Resolve(Process.CommandLocator.ExpandHome(command), workingDirectory)
            ?? throw new UnitErrorException(new UnitError("COMMAND_NOT_FOUND", $"The command \"{command}\" was not found or is not executable.",
                $"Install the program, give its absolute path in {setting}, or add its folder to PATH."));
}
