using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Alerts;
using Xunit;

namespace PluginHost.Core.Tests.Alerts;

/// <summary>The webhook against a real local HTTP receiver that fails first, on a clock the test moves.</summary>
public sealed class WebhookSenderTests : IDisposable
{
    private readonly ManualTimeProvider _clock = new();
    private readonly HttpRecorder _receiver;

    public WebhookSenderTests() => _receiver = new HttpRecorder(_clock);

    public void Dispose() => _receiver.Dispose();

    [Fact]
    public async Task A_failing_receiver_gets_the_alert_again_with_backoff_and_the_same_idempotency_key()
    {
        _receiver.FailFirst = 3;
        await using var sender = new WebhookSender(_receiver.Url, AlertSettings.Default with { WebhookAttempts = 6 }, _clock, NullLogger.Instance);
        sender.Send(new Alert("PORT_CONFLICT", "hub", "Port 8003 is held by pid 1.", "Stop it.", _clock.GetUtcNow()));
        await Eventually.TrueAsync(() =>
        {
            _clock.Advance(TimeSpan.FromMilliseconds(500));
            return sender.Delivered == 1;
        }, TimeSpan.FromSeconds(30), "the fourth attempt to be taken");

        var requests = _receiver.Requests;
        Assert.Equal(4, requests.Count);
        Assert.Single(requests.Select(r => r.Key).Distinct());
        var gaps = requests.Zip(requests.Skip(1), (a, b) => b.At - a.At).ToList();
        Assert.True(gaps[0] >= TimeSpan.FromSeconds(1) && gaps[1] >= TimeSpan.FromSeconds(2) && gaps[2] >= TimeSpan.FromSeconds(4), string.Join(", ", gaps));
        var body = JsonDocument.Parse(requests[^1].Body).RootElement;
        Assert.Equal("PORT_CONFLICT", body.GetProperty("code").GetString());
        Assert.Equal("hub", body.GetProperty("unit").GetString());
        Assert.Equal("Stop it.", body.GetProperty("remedy").GetString());
        Assert.Equal(0, sender.Failed);
    }

    [Fact]
    public async Task An_alert_is_given_up_after_its_attempts_and_the_next_one_still_goes()
    {
        _receiver.FailFirst = 2;
        await using var sender = new WebhookSender(_receiver.Url, AlertSettings.Default with { WebhookAttempts = 2 }, _clock, NullLogger.Instance);
        sender.Send(new Alert("UNIT_GAVE_UP", "a", "gave up", "fix it", _clock.GetUtcNow()));
        sender.Send(new Alert("UNIT_GAVE_UP", "b", "gave up", "fix it", _clock.GetUtcNow()));
        await Eventually.TrueAsync(() =>
        {
            _clock.Advance(TimeSpan.FromMilliseconds(500));
            return sender.Delivered == 1;
        }, TimeSpan.FromSeconds(30), "b to be delivered");
        Assert.Equal(1, sender.Failed);
        Assert.Equal(["a", "a", "b"], _receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("unit").GetString()));
    }

    [Fact]
    public async Task Raising_never_waits_for_the_receiver()
    {
        _receiver.Hang = true;
        await using var sender = new WebhookSender(_receiver.Url, AlertSettings.Default, _clock, NullLogger.Instance);
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 5_000; i++)
        {
            sender.Send(new Alert("DISK_LOW", null, $"alert {i}", "free space", _clock.GetUtcNow()));
        }

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"5,000 alerts took {started.Elapsed} to raise");
        Assert.True(sender.Dropped >= 5_000 - 1_001, $"dropped {sender.Dropped}"); // the queue keeps the newest 1,000 (and one is being sent)
    }

    [Fact]
    public async Task An_attempt_that_gets_no_answer_ends_at_its_timeout()
    {
        _receiver.Hang = true;
        await using var sender = new WebhookSender(_receiver.Url, AlertSettings.Default with { WebhookAttempts = 1, WebhookTimeout = TimeSpan.FromSeconds(5) }, _clock, NullLogger.Instance);
        sender.Send(new Alert("DISK_LOW", null, "alert", "free space", _clock.GetUtcNow()));
        await Eventually.TrueAsync(() => _receiver.Requests.Count == 1, TimeSpan.FromSeconds(30), "the request to arrive");
        await Eventually.TrueAsync(() =>
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            return sender.Failed == 1;
        }, TimeSpan.FromSeconds(30), "the attempt to time out");
    }
}
