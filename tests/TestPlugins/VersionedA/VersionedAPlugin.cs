using System.Text.Json;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;
using TestSharedLib;

namespace TestPlugins.VersionedA;

public sealed class VersionedAPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Touches the private dependency during load, so a missing copy fails the load.
        builder.AddUnitKind("versioned-a", new LibraryVersionDriver(SharedLib.Version, SharedLib.Greeting));
    }
}

internal sealed class LibraryVersionDriver(string version, string greeting) : IUnitDriver
{
    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => [];

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new LaunchPlan("/bin/true"));

    public IReadOnlyList<UnitOperation> Operations { get; } = [new("library", "Which TestSharedLib this plugin uses.")];

    public ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken) =>
        ValueTask.FromResult(OperationResult.Ok($"{version} {greeting} {typeof(SharedLib).Assembly.Location}"));
}
