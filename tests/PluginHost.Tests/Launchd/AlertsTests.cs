using System.Net.Http.Json;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Launchd;

/// <summary>
/// The seed's alerts through the real host: one line each in DATA/logs/alerts.log, the same on
/// GET /api/alerts and the event stream, and POSTed to a webhook that fails first.
/// </summary>
public sealed class AlertsTests : IAsyncLifetime
{
    private readonly HostUnderTest _host = new("alerts");
    private readonly HttpRecorder _webhook = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _webhook.Dispose();
    }

    [Fact]
    public async Task A_crash_looping_service_is_one_restarting_too_often_alert_in_the_log_the_api_and_the_webhook()
    {
        _webhook.FailFirst = 1;
        _host.WriteHostYaml(extra: $"alerts: {{ webhook: {{ url: '{_webhook.Url}', attempts: 4 }}, restarts: {{ count: 3, window: 1m }} }}\n");
        _host.Dir.Write("manifests/flaky.yaml", """
            apiVersion: pluginhost/v1
            kind: launchd-service
            name: flaky
            spec:
              ProgramArguments: [/bin/sh, -c, "echo starting; exit 1"]
              RunAtLoad: true
              KeepAlive: true
              ThrottleInterval: 0
            """);
        _host.Start();
        var log = _host.Dir.Combine("data", "logs", "alerts.log");
        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("RESTARTING_TOO_OFTEN flaky", StringComparison.Ordinal), HostUnderTest.Deadline, "the alert in alerts.log");
        var line = File.ReadAllLines(log).Single(l => l.Contains("RESTARTING_TOO_OFTEN", StringComparison.Ordinal));
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(line, @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ RESTARTING_TOO_OFTEN flaky: flaky restarted 4 times within 1m \(last: .*\)\. — Read its error output"), line);

        var alerts = await _host.Http.GetFromJsonAsync<JsonElement>("/api/alerts");
        var alert = Assert.Single(alerts.EnumerateArray(), a => a.GetProperty("code").GetString() == "RESTARTING_TOO_OFTEN");
        Assert.Equal("flaky", alert.GetProperty("unit").GetString());
        Assert.Contains(_host.Events("alert"), e => e.GetProperty("unit").GetString() == "flaky" && e.GetProperty("summary").GetString()!.StartsWith("RESTARTING_TOO_OFTEN: ", StringComparison.Ordinal));

        // Refused once, then taken: two requests, one key.
        await Eventually.TrueAsync(() => _webhook.Requests.Count >= 2, HostUnderTest.Deadline, "the webhook to be tried again after its 500");
        var posted = _webhook.Requests;
        Assert.Equal(2, posted.Count(r => r.Body.Contains("RESTARTING_TOO_OFTEN", StringComparison.Ordinal)));
        Assert.Single(posted.Select(r => r.Key).Distinct());
        Assert.Equal("flaky", JsonDocument.Parse(posted[^1].Body).RootElement.GetProperty("unit").GetString());

        // Still restarting (KeepAlive never gives up), never alerted again within repeatAfter.
        await Eventually.TrueAsync(() => _host.Unit("flaky")?.GetProperty("restarts").GetInt32() >= 20, HostUnderTest.Deadline, "twenty restarts");
        Assert.Single(File.ReadAllLines(log), l => l.Contains("RESTARTING_TOO_OFTEN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_data_disk_below_its_threshold_is_a_disk_low_alert_and_recovers()
    {
        using var disk = SmallDisk.Mount(_host.Dir.Combine("data"), 16);
        _host.WriteHostYaml(extra: "alerts: { disk: { minFree: 50%, minFreeBytes: 0, interval: 200ms }, ports: off }\n");
        var host = _host.Start();
        await Eventually.TrueAsync(() => host.Output.Contains("listening on", StringComparison.Ordinal), HostUnderTest.Deadline, "the host to start: " + host.Output);
        var ballast = _host.Dir.Combine("data", "ballast");
        await File.WriteAllBytesAsync(ballast, new byte[10 << 20]);
        var log = _host.Dir.Combine("data", "logs", "alerts.log");
        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("DISK_LOW host: The disk of", StringComparison.Ordinal), HostUnderTest.Deadline, "DISK_LOW in alerts.log");
        Assert.Contains("free of 16 MiB", File.ReadAllText(log), StringComparison.Ordinal);

        File.Delete(ballast);
        await Eventually.TrueAsync(() => _host.Events("disk_ok").Length == 1, HostUnderTest.Deadline, "disk_ok once the space is back");
        Assert.Single(File.ReadAllLines(log), l => l.Contains("DISK_LOW", StringComparison.Ordinal));
    }
}
