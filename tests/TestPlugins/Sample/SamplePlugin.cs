using System.Text.Json;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace TestPlugins.Sample;

public sealed class SamplePlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddUnitKind("sample", new SampleDriver(builder.Plugin.Version));
    }
}

/// <summary>
/// spec: { message: text (required), count: 1..10, refuseAttach: bool }.
/// Its "echo" operation serializes a plugin-private type with System.Text.Json's reflection
/// serializer: exactly what keeps a plugin alive unless the host clears the framework's caches.
/// </summary>
internal sealed class SampleDriver(string version) : IUnitDriver
{
    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec)
    {
        var reader = new SpecReader(spec);
        reader.RequiredString("message");
        reader.Int("count", 1, 10);
        reader.Bool("refuseAttach");
        reader.RejectUnknownKeys();
        return reader.Problems;
    }

    public UnitDefaults Defaults(SpecMapping spec) => new() { Stop = new StopSettings(UnixSignal.Int, TimeSpan.FromSeconds(2)) };

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new LaunchPlan("/bin/sleep") { Arguments = ["300"] });

    public ValueTask<AttachResult> AttachAsync(IUnitContext context, RunningProcess running, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new SpecReader(context.Spec).Bool("refuseAttach") == true
            ? AttachResult.Refuse($"version {version} cannot adopt pid {running.Pid}")
            : AttachResult.Adopt);

    /// <summary>One good gauge, one that takes a name of the host's own metrics, one that is no metric name.</summary>
    public ValueTask<IReadOnlyList<UnitGauge>> MeasureAsync(IUnitContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<UnitGauge>>(context.Process is { } process
            ? [new("sample_pid", process.Pid, "The pid, as a gauge."), new("rss_bytes", 1, "Collides with the host's own."), new("Not a name", 2, "Invalid.")]
            : []);

    public IReadOnlyList<UnitOperation> Operations { get; } =
    [
        new("version", "The plugin version this driver belongs to."),
        new("echo", "Echoes its arguments through a plugin-private type.") { Parameters = [new("text", OperationParameterType.String, "What to echo.", Required: true)] },
    ];

    public ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken) =>
        ValueTask.FromResult(operation switch
        {
            "version" => OperationResult.Ok(version),
            "echo" => OperationResult.Ok(JsonSerializer.Serialize(new Echo(arguments.GetProperty("text").GetString() ?? "", version))),
            _ => OperationResult.Fail($"unknown operation {operation}"),
        });

    public sealed record Echo(string Text, string Version);
}
