using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Station.Sync;

// station-sync --config sync.json: the station's sync sender (docs/station.md, "Sync"). A .NET worker
// service: SIGTERM flushes what the backend takes within the timeout, then exits 0; SIGUSR1 syncs now.
if (args is not ["--config", var configPath])
{
    Console.Error.WriteLine("usage: station-sync --config SYNC.json");
    return 2;
}

SyncSettings settings;
ISyncTarget target;
try
{
    settings = SyncSettings.Load(configPath);
    target = settings.Target switch
    {
        SyncTargetKind.Http => new HttpSyncTarget(settings.Station, new Uri(settings.Url!.TrimEnd('/') + "/"), SyncSettings.Secret(settings.ApiKeyEnv)),
        _ => new PostgresSyncTarget(SyncSettings.Secret(settings.ConnectionEnv)
            ?? throw new InvalidOperationException($"the environment variable {settings.ConnectionEnv} (the PostgreSQL connection string) is not set")),
    };
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException or UriFormatException or ArgumentException)
{
    Console.Error.WriteLine($"station-sync: SYNC_CONFIG_INVALID: {ex.Message}");
    return 3;
}

await using (target.ConfigureAwait(false))
{
    var builder = Host.CreateApplicationBuilder([]);
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    });
    builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning); // never a request line with its headers
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Timeout + TimeSpan.FromSeconds(5));
    builder.Services.AddSingleton(settings);
    builder.Services.AddSingleton(target);
    builder.Services.AddSingleton<SyncNudge>();
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddHostedService<SyncWorker>();
    using var host = builder.Build();
    await host.RunAsync().ConfigureAwait(false);
}

return 0;
