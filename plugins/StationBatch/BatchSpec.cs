using System.Text.Json.Nodes;
using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.StationBatch;

/// <summary>
/// <code>
/// spec:
///   batch: line1-slot1          # the batch id (default: the unit's name)
///   station: line1              # the station's id on every result row (default: the machine's name)
///   name: Line 1, slot 1
///   sequence: ./sequences/pcb-power   # the sequence package folder; relative to the manifest's folder
///   hardware:                   # slot -> equipment driver
///     psu: { driver: sim-psu, address: 127.0.0.1, port: 0, options: { seed: "7" } }
///     dmm: { driver: sim-dmm }
///     scope: { driver: scpi-tcp, address: 10.0.0.9, connect: step }  # connect per step (default: sequence)
///   parameters: { dut_serial: SN-0001 }
///   drivers: ../artifacts/drivers   # where the equipment-driver plugins are; relative to the manifest's folder (this is the default)
///   worker: ../artifacts/station-worker  # the built worker (this is the default)
///   heartbeat: 1s
/// </code>
/// </summary>
internal sealed record BatchSpec(
    string? Batch,
    string Name,
    string Sequence,
    IReadOnlyList<BatchHardware> Hardware,
    JsonObject Parameters,
    string? Drivers,
    string? Worker,
    TimeSpan Heartbeat)
{
    /// <summary>The station's id on every result row (<c>spec.station</c>), so that a fleet's results stay apart in one central database.</summary>
    public string Station { get; init; } = Environment.MachineName;

    /// <summary>Where `dotnet build` puts driver plugins, seen from the repository's manifests/ folder.</summary>
    public const string DefaultDrivers = "../artifacts/drivers";

    /// <summary>Where `dotnet build` puts the worker, seen from the repository's manifests/ folder.</summary>
    public const string DefaultWorker = "../artifacts/station-worker";

    public static (BatchSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var batch = reader.String("batch");
        if (batch is not null && (batch.Length is 0 or > 64 || !batch.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            reader.Report(mapping["batch"]!, $"\"{batch}\"", "1 to 64 letters, digits, '-', '_' or '.'");
        }

        var sequence = reader.RequiredString("sequence");
        var hardware = new List<BatchHardware>();
        if (mapping["hardware"] is SpecMapping slots)
        {
            foreach (var entry in slots.Entries)
            {
                if (ReadSlot(entry, reader) is { } slot)
                {
                    hardware.Add(slot);
                }
            }
        }
        else if (mapping["hardware"] is { } other)
        {
            reader.Report(other, other.Describe(), "a mapping of slot names to { driver, address, port, options }");
        }

        reader.Allow("hardware", "parameters");
        var parameters = new JsonObject();
        if (mapping["parameters"] is SpecMapping given)
        {
            foreach (var entry in given.Entries)
            {
                if (entry.Value is SpecScalar { Value: var value })
                {
                    parameters[entry.Key] = value;
                }
                else
                {
                    reader.Report(entry.Value, entry.Value.Describe(), "a single value");
                }
            }
        }
        else if (mapping["parameters"] is { } other)
        {
            reader.Report(other, other.Describe(), "a mapping of parameter names to values");
        }

        var spec = new BatchSpec(batch, reader.String("name") ?? batch ?? "", sequence, hardware, parameters, reader.String("drivers"), reader.String("worker"),
            reader.Duration("heartbeat", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromSeconds(1))
        {
            Station = reader.String("station") is { Length: > 0 } station ? station : Environment.MachineName,
        };
        reader.RejectUnknownKeys();
        return (spec, reader.Problems);
    }

    private static BatchHardware? ReadSlot(SpecEntry entry, SpecReader parent)
    {
        if (entry.Value is not SpecMapping slot)
        {
            parent.Report(entry.Value, entry.Value.Describe(), "{ driver, address, port, options }");
            return null;
        }

        var reader = new SpecReader(slot);
        var driver = reader.RequiredString("driver");
        var binding = new BatchHardware(entry.Key, driver, reader.String("address") ?? "127.0.0.1", reader.Int("port", 0, 65535) ?? 0, reader.StringMap("options"),
            reader.OneOf("connect", "sequence", "step") ?? "sequence");
        reader.RejectUnknownKeys();
        foreach (var problem in reader.Problems)
        {
            parent.Report(problem);
        }

        return binding;
    }
}

/// <param name="Connect"><c>sequence</c>: connected for the whole execution; <c>step</c>: for each step that uses it (docs/drivers.md).</param>
internal sealed record BatchHardware(string Slot, string Driver, string Address, int Port, IReadOnlyDictionary<string, string> Options, string Connect);
