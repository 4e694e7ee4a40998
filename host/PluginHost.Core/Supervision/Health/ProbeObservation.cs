using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision.Health;

/// <summary>One probe run: which, whether it passed, how long it took.</summary>
internal sealed record ProbeObservation(ProbeKind Kind, bool Healthy, TimeSpan Latency);
