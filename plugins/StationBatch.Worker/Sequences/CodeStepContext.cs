using System.Globalization;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Equipment;
using PluginHost.Station.Steps;
using SlotInstrument = PluginHost.Station.Worker.Drivers.Instrument;

namespace PluginHost.Station.Worker.Sequences;

/// <summary>What one run of a C# step sees: the run's parameters, the connected instruments of the package's slots, a measurement record.</summary>
internal sealed class CodeStepContext(
    IReadOnlyDictionary<string, JsonNode?> parameters,
    IReadOnlyDictionary<string, SlotInstrument> instruments,
    Sequence sequence,
    CancellationToken cancellation,
    Action<string> log) : IStepContext
{
    private readonly List<(string Name, double Value)> _measured = [];

    public IReadOnlyDictionary<string, JsonNode?> Parameters { get; } = parameters;

    public CancellationToken Cancellation { get; } = cancellation;

    public IEquipmentDriver Instrument(string slot) => instruments.TryGetValue(slot, out var instrument)
        ? instrument
        : throw new EquipmentException("SLOT_NOT_BOUND", $"the package declares no hardware slot \"{slot}\" ({string.Join(", ", sequence.Slots)})",
            $"Declare the slot in sequence.yaml's hardware section, or use one it declares ({string.Join(", ", sequence.Slots)}).");

    public void Measure(string name, double value, string? units = null) => _measured.Add((name, value));

    public void Log(string message) => log(message);

    public MeasuredValue? Measured(string name) =>
        _measured.FirstOrDefault(m => m.Name == name) is { Name: not null } m ? new MeasuredValue(m.Value.ToString("R", CultureInfo.InvariantCulture), m.Value) : null;
}
