using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.Process;

/// <summary>
/// Validates the spec and turns it into a launch plan, failing early (before anything is spawned)
/// when the program or the working directory does not exist. Probes, restarts and stopping are the
/// host's generic ones, configured in the manifest.
/// </summary>
internal sealed class ProcessDriver : IUnitDriver
{
    public const string Kind = "process";

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => ProcessSpec.Read(spec).Problems;

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (spec, problems) = ProcessSpec.Read(context.Spec);
        if (problems.Count > 0)
        {
            throw new UnitErrorException(new UnitError("INVALID_SPEC", "The unit's spec is invalid: " + string.Join("; ", problems),
                "Fix the manifest as described; `pluginhost validate` lists every problem."));
        }

        var workingDirectory = spec.WorkingDirectory is null
            ? context.DataDirectory
            : Path.GetFullPath(Path.Combine(context.ManifestDirectory, spec.WorkingDirectory));
        if (!Directory.Exists(workingDirectory))
        {
            throw new UnitErrorException(new UnitError("CWD_NOT_FOUND", $"The working directory {workingDirectory} does not exist.",
                "Create it, or fix spec.cwd (relative paths start at the manifest's folder)."));
        }

        var command = CommandLocator.Resolve(spec.Command, workingDirectory)
            ?? throw new UnitErrorException(new UnitError("COMMAND_NOT_FOUND", $"The command \"{spec.Command}\" was not found or is not executable.",
                "Install the program, use its absolute path in spec.command, or add its folder to PATH."));

        var environment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal);
        foreach (var (name, value) in spec.Environment)
        {
            environment[name] = value;
        }

        return ValueTask.FromResult(new LaunchPlan(command)
        {
            Arguments = spec.Arguments,
            Environment = environment,
            WorkingDirectory = workingDirectory,
            OutputEventKind = spec.OutputEvents,
        });
    }
}
