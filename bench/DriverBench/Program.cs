using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using McMaster.NETCore.Plugins;
using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Units;
using PluginHost.Contracts.Web;

// DriverBench PLUGIN_DLL DRIVER ADDRESS PORT COMMAND COUNT [option=value ...]
// Prints one JSON object: commands, seconds, perSecond, p50Us, p99Us, and the last reply.
if (args.Length < 6)
{
    Console.Error.WriteLine("usage: DriverBench PLUGIN_DLL DRIVER ADDRESS PORT COMMAND COUNT [option=value ...]");
    return 2;
}

var (assembly, name, address, port, command, count) = (args[0], args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args[4], int.Parse(args[5], CultureInfo.InvariantCulture));
var options = args.Skip(6).Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
using var loader = PluginLoader.CreateFromAssemblyFile(assembly, isUnloadable: true,
    sharedTypes: [typeof(IPlugin), typeof(IEquipmentDriver), typeof(IUnitDriver)], config => config.LoadInMemory = true);
var plugin = (IPlugin)Activator.CreateInstance(loader.LoadDefaultAssembly().GetExportedTypes().Single(t => typeof(IPlugin).IsAssignableFrom(t)))!;
var builder = new Builder();
plugin.Configure(builder);
await using var driver = builder.Factories[name]();
await driver.ConnectAsync(new EquipmentEndpoint(address, port) { Options = options, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None);

var reply = "";
for (var i = 0; i < Math.Min(1000, count / 10); i++)
{
    reply = (await driver.QueryAsync(command, CancellationToken.None)).Text; // warm-up: JIT, connection, peer caches
}

var samples = new double[count];
var total = Stopwatch.StartNew();
for (var i = 0; i < count; i++)
{
    var started = Stopwatch.GetTimestamp();
    reply = (await driver.QueryAsync(command, CancellationToken.None)).Text;
    samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
}

total.Stop();
await driver.DisconnectAsync(CancellationToken.None);
Array.Sort(samples);
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["commands"] = count,
    ["seconds"] = Math.Round(total.Elapsed.TotalSeconds, 3),
    ["perSecond"] = Math.Round(count / total.Elapsed.TotalSeconds),
    ["p50Us"] = Math.Round(samples[count / 2], 1),
    ["p99Us"] = Math.Round(samples[(int)(count * 0.99)], 1),
    ["reply"] = reply,
}));
return 0;

internal sealed class Builder : IPluginBuilder
{
    public Dictionary<string, Func<IEquipmentDriver>> Factories { get; } = new(StringComparer.Ordinal);

    public PluginInfo Plugin { get; } = new("bench", "0", PluginHost.Contracts.ContractsVersion.Current, ".");

    public IPluginBuilder AddEquipmentDriver(string name, Func<IEquipmentDriver> factory)
    {
        Factories[name] = factory;
        return this;
    }

    public IPluginBuilder AddUnitKind(string kind, IUnitDriver driver) => this;

    public IPluginBuilder AddDashboardPanel(string module = "panel.js") => this;

    public IPluginBuilder AddRoutes(IPluginRoutes routes) => this;
}
