using System.Text.Json;
using PluginHost.Contracts.Events;
using PluginHost.Core.Alerts;
using Xunit;

namespace PluginHost.Core.Tests.Alerts;

/// <summary>Which events are alerts, and that a repeated one is raised once per RepeatAfter.</summary>
public sealed class AlertRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_unit_restarting_more_than_the_count_within_the_window_is_one_alert_until_repeat_after()
    {
        var rules = new AlertRules(AlertSettings.Default with { RestartCount = 3, RestartWindow = TimeSpan.FromMinutes(1), RepeatAfter = TimeSpan.FromMinutes(10) });
        var alerts = Enumerable.Range(0, 10).Select(i => rules.Evaluate(Backoff("api", T0.AddSeconds(i * 10)))).ToList();
        Assert.Equal([null, null, null], alerts.Take(3));
        var alert = Assert.Single(alerts.OfType<Alert>());
        Assert.Equal("RESTARTING_TOO_OFTEN", alert.Code);
        Assert.Equal("api", alert.Unit);
        Assert.Contains("restarted 4 times within 1m", alert.Message, StringComparison.Ordinal);
        Assert.Contains("pluginhost logs api", alert.Remedy, StringComparison.Ordinal);
        // Eleven minutes on, a new burst of restarts is a new alert.
        var later = Enumerable.Range(0, 4).Select(i => rules.Evaluate(Backoff("api", T0.AddMinutes(11).AddSeconds(i)))).ToList();
        Assert.Equal("RESTARTING_TOO_OFTEN", Assert.Single(later.OfType<Alert>()).Code);
    }

    [Fact]
    public void Restarts_spread_wider_than_the_window_are_not_an_alert()
    {
        var rules = new AlertRules(AlertSettings.Default with { RestartCount = 3, RestartWindow = TimeSpan.FromMinutes(1) });
        Assert.All(Enumerable.Range(0, 20), i => Assert.Null(rules.Evaluate(Backoff("api", T0.AddSeconds(i * 30)))));
    }

    [Fact]
    public void Port_conflicts_gave_up_units_full_disks_and_failing_storage_are_alerts_with_their_own_words()
    {
        var rules = new AlertRules(AlertSettings.Default);
        var conflict = rules.Evaluate(Event("port_conflict", "hub", """{"code":"PORT_CONFLICT","port":8003,"pid":4711,"message":"Port 8003 of hub is also listened on by pid 4711 (python3).","remedy":"Stop that process (kill 4711)."}"""));
        Assert.Equal(("PORT_CONFLICT", "hub"), (conflict!.Code, conflict.Unit));
        Assert.Equal("Port 8003 of hub is also listened on by pid 4711 (python3).", conflict.Message);
        Assert.Equal("UNIT_GAVE_UP", rules.Evaluate(Event("unit_gave_up", "api", """{"code":"CRASHED","message":"5 restarts within 60s","remedy":"Read its log."}"""))!.Code);
        Assert.Equal("DISK_LOW", rules.Evaluate(Event("disk_low", null, """{"message":"The disk of /data is nearly full","remedy":"Free space."}"""))!.Code);
        var storage = rules.Evaluate(Event("storage_failed", null, """{"code":"DISK_FULL","unit":"api","message":"No space left","remedy":"Free space."}"""));
        Assert.Equal(("DISK_FULL", "api"), (storage!.Code, storage.Unit));
        Assert.Null(rules.Evaluate(Event("unit_exited", "api", """{"pid":1}""")));
        Assert.Null(rules.Evaluate(Event("port_conflict", "hub", """{"message":"Port 8003 of hub is also listened on by pid 4711 (python3).","remedy":"x"}"""))); // the same, again
        Assert.NotNull(rules.Evaluate(Event("port_conflict", "hub", """{"message":"Port 8003 of hub is also listened on by pid 5000 (nc).","remedy":"x"}""")));
    }

    [Fact]
    public void The_alerts_log_line_says_when_what_where_and_what_to_do()
    {
        var alert = new Alert("PORT_CONFLICT", "hub", "Port 8003 is held by pid 1.", "Stop it.", T0);
        Assert.Equal("2026-12-02T12:00:00Z PORT_CONFLICT hub: Port 8003 is held by pid 1. — Stop it.", alert.Line);
        Assert.StartsWith("2026-12-02T12:00:00Z DISK_LOW host:", (alert with { Code = "DISK_LOW", Unit = null }).Line, StringComparison.Ordinal);
    }

    private static HostEvent Backoff(string unit, DateTimeOffset at) =>
        Event("unit_state", unit, """{"from":"ready","to":"backoff","reason":"exit code 1; starting again in 1s"}""", at);

    private static HostEvent Event(string kind, string? unit, string payload, DateTimeOffset? at = null) =>
        new(kind, unit, null, at ?? T0, JsonDocument.Parse(payload).RootElement.Clone());
}
