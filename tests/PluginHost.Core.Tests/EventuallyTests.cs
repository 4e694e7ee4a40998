using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Core.Tests;

/// <summary>The tests' one wait: a probe's failure is remembered and told, an assertion ends the wait at once.</summary>
public sealed class EventuallyTests
{
    [Fact]
    public async Task A_wait_that_times_out_says_what_the_last_attempt_failed_with()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Eventually.TrueAsync(
            () => throw new HttpRequestException("Connection refused (127.0.0.1:9)"), TimeSpan.FromMilliseconds(100), "the host to answer"));

        Assert.Contains("waited 0 s for the host to answer; the last attempt failed with HttpRequestException: Connection refused (127.0.0.1:9)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_assertion_in_the_probe_fails_the_wait_at_once()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAsync<Xunit.Sdk.EqualException>(() => Eventually.TrueAsync(() =>
        {
            Assert.Equal(1, 2);
            return true;
        }, TimeSpan.FromSeconds(30), "never"));

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Failures_before_success_do_not_matter()
    {
        var attempts = 0;

        var value = await Eventually.WaitAsync(() => ++attempts < 3 ? throw new InvalidOperationException("not yet") : "done", TimeSpan.FromSeconds(30), "three attempts");

        Assert.Equal("done", value);
    }
}
