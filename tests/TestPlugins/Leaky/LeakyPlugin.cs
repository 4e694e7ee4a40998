using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;

namespace TestPlugins.Leaky;

/// <summary>Breaks the unload rules on purpose: a process-wide event handler roots its load context.</summary>
public sealed class LeakyPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        builder.AddUnitKind("leaky", new LeakyDriver());
    }

    private void OnProcessExit(object? sender, EventArgs e) => GC.KeepAlive(this);
}

internal sealed class LeakyDriver : IUnitDriver
{
    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec) => [];

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new LaunchPlan("/bin/true"));
}
