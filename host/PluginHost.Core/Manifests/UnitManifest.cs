using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Manifests;

/// <summary>
/// One unit as an operator described it, with the kind's defaults and the host's defaults already
/// filled in where the manifest is silent (manifest &gt; kind defaults &gt; host defaults).
/// </summary>
internal sealed record UnitManifest
{
    public required string Name { get; init; }

    public required string Kind { get; init; }

    /// <summary>The manifest file, as shown in messages.</summary>
    public required string File { get; init; }

    public string? Description { get; init; }

    /// <summary>A disabled unit is known but never started.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Start when the host starts (or when the unit is added).</summary>
    public bool Autostart { get; init; } = true;

    /// <summary>
    /// <c>autostart: optional</c>: started with the host when it can be; a start refused by its
    /// preflight (a requirement of the machine missing) leaves it stopped with the reason, not failed.
    /// </summary>
    public bool AutostartOptional { get; init; }

    public IReadOnlyList<string> After { get; init; } = [];

    /// <summary>After a host crash, adopt the unit's still-running process (true) or terminate it and start afresh (false).</summary>
    public bool Reattach { get; init; } = true;

    public RestartSettings Restart { get; init; } = RestartSettings.Default;

    public HealthSettings Health { get; init; } = HealthSettings.Default;

    public StopSettings Stop { get; init; } = StopSettings.Default;

    public IReadOnlyList<PortRequest> Ports { get; init; } = [];

    public IReadOnlyDictionary<string, EnvValue> Env { get; init; } = new Dictionary<string, EnvValue>();

    public required SpecMapping Spec { get; init; }

    /// <summary>
    /// The manifest's content without positions or comments: two manifests with the same fingerprint
    /// describe the same unit, so moving lines or editing comments is not a change.
    /// </summary>
    public required string Fingerprint { get; init; }
}

/// <summary>An environment value; secret unless marked <c>public: true</c>, so never shown by API or logs.</summary>
internal sealed record EnvValue(string Value, bool Public);
