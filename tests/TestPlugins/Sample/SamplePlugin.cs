using System.Text.Json;
using System.Text.RegularExpressions;
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
/// spec: { message: text (required), count: 1..10, refuseAttach: bool, failPrepare: bool (PrepareAsync throws, as a buggy plugin would),
/// hangOnStop: bool (its stop hook never returns) }.
/// Its "echo" operation serializes a plugin-private type with System.Text.Json's reflection
/// serializer: exactly what keeps a plugin alive unless the host clears the framework's caches.
/// Its "match" operation uses what plugin authors reach for with text: a generated Regex held in a
/// static, a compiled one, and the static Regex API (whose cache is process-wide).
/// </summary>
internal sealed partial class SampleDriver(string version) : IUnitDriver
{
    private static readonly Regex Compiled = new("^[a-z]+$", RegexOptions.Compiled, TimeSpan.FromSeconds(1));

    [GeneratedRegex("^[a-z]+-[0-9]+$")]
    private static partial Regex Generated();

    public IReadOnlyList<SpecProblem> Validate(SpecMapping spec)
    {
        var reader = new SpecReader(spec);
        reader.RequiredString("message");
        reader.Int("count", 1, 10);
        reader.Bool("refuseAttach");
        reader.Bool("failPrepare");
        reader.Bool("hangOnStop");
        reader.RejectUnknownKeys();
        return reader.Problems;
    }

    public UnitDefaults Defaults(SpecMapping spec) => new() { Stop = new StopSettings(UnixSignal.Int, TimeSpan.FromSeconds(2)) };

    public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken) =>
        new SpecReader(context.Spec).Bool("failPrepare") == true
            ? throw new InvalidOperationException("the widget registry is not configured")
            : ValueTask.FromResult(new LaunchPlan("/bin/sleep") { Arguments = ["300"] });

    /// <summary>With hangOnStop, the stop hook never returns and ignores its token, as a buggy plugin's would.</summary>
    public async ValueTask StopAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        if (new SpecReader(context.Spec).Bool("hangOnStop") == true)
        {
            await new TaskCompletionSource().Task.ConfigureAwait(false);
        }
    }

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
        new("match", "Matches its text with three kinds of Regex.") { Parameters = [new("text", OperationParameterType.String, "What to match.", Required: true)] },
        new("refuse", "Always fails, with a coded error and some data."),
    ];

    public ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken) =>
        ValueTask.FromResult(operation switch
        {
            "version" => OperationResult.Ok(version),
            "echo" => OperationResult.Ok(JsonSerializer.Serialize(new Echo(arguments.GetProperty("text").GetString() ?? "", version))),
            "match" => OperationResult.Ok(Match(arguments.GetProperty("text").GetString() ?? "")),
            "refuse" => OperationResult.Fail(new UnitError("SAMPLE_REFUSED", "The sample refuses, as asked.", "Ask something else.")) with { Data = JsonSerializer.SerializeToElement(new Echo("refused", version)) },
            _ => OperationResult.Fail($"unknown operation {operation}"),
        });

    public sealed record Echo(string Text, string Version);

    private static string Match(string text) =>
        $"generated={Generated().IsMatch(text)} compiled={Compiled.IsMatch(text)} cached={Regex.IsMatch(text, "[0-9]", RegexOptions.None, TimeSpan.FromSeconds(1))}";
}
