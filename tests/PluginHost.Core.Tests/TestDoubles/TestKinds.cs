using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Manifests;

namespace PluginHost.Core.Tests.TestDoubles;

/// <summary>
/// Kinds for manifest tests, so they exercise the host's reading without loading plugins:
/// <c>worker</c> requires spec.command; <c>sidecar</c> wants a port and starts on demand.
/// </summary>
internal sealed class TestKinds : IUnitKindResolver
{
    private readonly Dictionary<string, IUnitDriver> _drivers = new(StringComparer.Ordinal)
    {
        ["worker"] = new WorkerDriver(),
        ["sidecar"] = new SidecarDriver(),
    };

    public IReadOnlyCollection<string> Kinds => _drivers.Keys;

    public IUnitDriver? FindDriver(string kind) => _drivers.GetValueOrDefault(kind);

    public string? WhyMissing(string kind) => kind == "broken" ? "plugin \"broken\" that provides it failed to load: boom" : null;

    private sealed class WorkerDriver : IUnitDriver
    {
        public IReadOnlyList<SpecProblem> Validate(SpecMapping spec)
        {
            var reader = new SpecReader(spec);
            reader.RequiredString("command");
            reader.StringList("args");
            reader.RejectUnknownKeys();
            return reader.Problems;
        }

        public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new LaunchPlan("/bin/true"));
    }

    private sealed class SidecarDriver : IUnitDriver
    {
        public IReadOnlyList<SpecProblem> Validate(SpecMapping spec)
        {
            var reader = new SpecReader(spec);
            reader.RejectUnknownKeys();
            return reader.Problems;
        }

        public UnitDefaults Defaults(SpecMapping spec) => new()
        {
            Autostart = false,
            Health = new HealthSettings { Readiness = new HttpProbe("/v1/models", "api"), StartTimeout = TimeSpan.FromSeconds(120) },
        };

        public IReadOnlyList<PortRequest> RequestPorts(SpecMapping spec) => [new("api", 11435)];

        public ValueTask<LaunchPlan> PrepareAsync(IUnitContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new LaunchPlan("/bin/true"));
    }
}
