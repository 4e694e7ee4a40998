using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Shared;

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
        LaunchPreflight.RequireValid(problems);
        var workingDirectory = LaunchPreflight.WorkingDirectory(context, spec.WorkingDirectory, "spec.cwd");
        var command = LaunchPreflight.Program(spec.Command, workingDirectory, "spec.command");

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
