using System.Text.Json.Nodes;
using PluginHost.Contracts.Equipment;

namespace PluginHost.Station.Steps;

/// <summary>What a C# step gets for one run of it.</summary>
public interface IStepContext
{
    /// <summary>The run's parameter values, checked against the package's declarations.</summary>
    IReadOnlyDictionary<string, JsonNode?> Parameters { get; }

    /// <summary>The connected instrument of a hardware slot the package declares.</summary>
    IEquipmentDriver Instrument(string slot);

    /// <summary>Records a measurement; the step's <c>measure</c> section in sequence.yaml, when it has one, judges the first of that name.</summary>
    void Measure(string name, double value, string? units = null);

    /// <summary>A line in the execution's record (a LOG event).</summary>
    void Log(string message);

    /// <summary>Cancelled at the step's timeout.</summary>
    CancellationToken Cancellation { get; }
}
