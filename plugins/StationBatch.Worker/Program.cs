using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NetMQ;
using PluginHost.Station.Worker;
using PluginHost.Station.Worker.Link;

// station-worker --config batch.json: one batch's worker (docs/station.md). A .NET worker service:
// SIGTERM stops the running execution at its next step boundary, runs its teardown, and exits 0.
if (args is not ["--config", var configPath])
{
    Console.Error.WriteLine("usage: station-worker --config BATCH.json");
    return 2;
}

WorkerSettings settings;
try
{
    settings = WorkerSettings.Load(configPath);
}
catch (Exception ex) when (ex is WorkerException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
{
    Console.Error.WriteLine($"station-worker: {(ex is WorkerException w ? w.Code + ": " : "")}{ex.Message}");
    return 3;
}

var builder = Host.CreateApplicationBuilder([]);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<MasterLink>();
builder.Services.AddHostedService<BatchWorker>();
using (var host = builder.Build())
{
    await host.RunAsync().ConfigureAwait(false);
}

NetMQConfig.Cleanup(block: false);
return 0;
