using PluginHost.Contracts.Units;

namespace PluginHost.Core.Manifests;

/// <summary>Finds the driver for a unit kind among the loaded plugins.</summary>
internal interface IUnitKindResolver
{
    IReadOnlyCollection<string> Kinds { get; }

    IUnitDriver? FindDriver(string kind);

    /// <summary>Why a kind is not available, when the host knows (e.g. its plugin failed to load).</summary>
    string? WhyMissing(string kind);
}
