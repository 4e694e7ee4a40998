using System.Text.Json.Nodes;
using PluginHost.Contracts.Equipment;
using PluginHost.Station.Worker.Drivers;

namespace PluginHost.Station.Worker;

/// <summary>
/// What one worker runs, read from the JSON file the station-batch plugin writes (or a test):
/// <c>{batch, session, name, master, package, drivers, hardware: {slot: {driver, address, port, options}}, parameters, heartbeatMs}</c>.
/// </summary>
/// <param name="Session">Chosen by the master for this worker: its socket identity is <c>BATCH/SESSION</c>, so a master
/// takes nothing from another worker of the same batch name (a stray one of another data folder, say).</param>
internal sealed record WorkerSettings(
    string Batch,
    string Session,
    string Name,
    string Master,
    string Package,
    string Drivers,
    IReadOnlyDictionary<string, HardwareBinding> Hardware,
    JsonObject Parameters,
    TimeSpan Heartbeat)
{
    public static WorkerSettings Load(string path)
    {
        var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
            ?? throw new WorkerException("WORKER_CONFIG_INVALID", $"{path} is not a JSON object");
        string Required(string name) => json[name]?.GetValue<string>() is { Length: > 0 } value
            ? value
            : throw new WorkerException("WORKER_CONFIG_INVALID", $"{path}: \"{name}\" is missing");

        var hardware = new Dictionary<string, HardwareBinding>(StringComparer.Ordinal);
        foreach (var (slot, node) in json["hardware"] as JsonObject ?? [])
        {
            if (node is not JsonObject binding || binding["driver"]?.GetValue<string>() is not { Length: > 0 } driver)
            {
                throw new WorkerException("WORKER_CONFIG_INVALID", $"{path}: hardware.{slot} needs a \"driver\"");
            }

            var options = (binding["options"] as JsonObject ?? []).ToDictionary(o => o.Key, o => o.Value?.ToString() ?? "", StringComparer.Ordinal);
            var connect = binding["connect"]?.GetValue<string>() switch
            {
                null or "sequence" => ConnectionPolicy.Sequence,
                "step" => ConnectionPolicy.Step,
                var other => throw new WorkerException("WORKER_CONFIG_INVALID", $"{path}: hardware.{slot}.connect is \"{other}\" (sequence or step)"),
            };
            hardware[slot] = new HardwareBinding(slot, driver, binding["address"]?.GetValue<string>() ?? "127.0.0.1",
                binding["port"]?.GetValue<int>() ?? 0, options) { Connect = connect };
        }

        return new WorkerSettings(Required("batch"), json["session"]?.GetValue<string>() ?? "", json["name"]?.GetValue<string>() ?? Required("batch"), Required("master"),
            Required("package"), Required("drivers"), hardware, json["parameters"]?.DeepClone() as JsonObject ?? [],
            TimeSpan.FromMilliseconds(json["heartbeatMs"]?.GetValue<int>() ?? 1000));
    }

    public string Identity => Session.Length == 0 ? Batch : $"{Batch}/{Session}";
}

/// <summary>One hardware slot of a batch: which equipment driver, where the instrument is, the driver's options, when to connect.</summary>
internal sealed record HardwareBinding(string Slot, string Driver, string Address, int Port, IReadOnlyDictionary<string, string> Options)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    public ConnectionPolicy Connect { get; init; } = ConnectionPolicy.Sequence;

    /// <summary>One command's deadline: the option <c>timeout</c> (<c>500ms</c>, <c>5s</c>), else 2 s.</summary>
    public TimeSpan Timeout => Options.TryGetValue("timeout", out var text) && PluginHost.Contracts.Specs.Duration.TryParse(text, out var timeout) && timeout > TimeSpan.Zero
        ? timeout
        : DefaultTimeout;

    public EquipmentEndpoint Endpoint => new(Address, Port) { Options = Options, Timeout = Timeout };
}
