using System.Runtime.CompilerServices;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Plugins;
using Xunit;

namespace PluginHost.Core.Tests.Plugins;

/// <summary>
/// The unload check on a clock the test moves. Work in flight when a reload swaps versions can hold
/// the old one for a moment; only a reference that outlives every pause is a leak.
/// </summary>
public sealed class UnloadVerifierTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly ManualTimeProvider _clock = new();
    private object? _holder;

    [Fact]
    public async Task A_version_still_held_through_the_first_collections_but_released_before_the_next_is_collected_not_reported()
    {
        var backToBack = UnloadVerifier.Pauses.TakeWhile(p => p == TimeSpan.Zero).Count() + 1;
        var weak = HoldNewTarget();
        var verification = UnloadVerifier.WaitForCollectionAsync(weak, _clock);

        await Eventually.TrueAsync(() => _clock.ScheduledTimers == 1, Deadline, "the verifier to pause after its back-to-back collections");
        Assert.False(verification.IsCompleted);
        _holder = null; // the in-flight work finishes
        _clock.Advance(UnloadVerifier.Pauses[backToBack - 1]);

        Assert.Equal(backToBack + 1, await verification.WaitAsync(Deadline));
    }

    [Fact]
    public async Task A_version_held_through_every_pause_is_reported_as_a_leak_after_about_four_seconds()
    {
        var weak = HoldNewTarget();
        var started = _clock.GetUtcNow();
        var verification = UnloadVerifier.WaitForCollectionAsync(weak, _clock);

        foreach (var pause in UnloadVerifier.Pauses.Where(p => p > TimeSpan.Zero))
        {
            await Eventually.TrueAsync(() => _clock.ScheduledTimers == 1, Deadline, "the verifier to pause");
            Assert.False(verification.IsCompleted);
            _clock.Advance(pause);
        }

        Assert.Null(await verification.WaitAsync(Deadline));
        Assert.Equal(TimeSpan.FromMilliseconds(3870), _clock.GetUtcNow() - started);
        GC.KeepAlive(_holder);
    }

    [Fact]
    public async Task A_version_already_collected_needs_no_cycle_and_no_pause()
    {
        var weak = new WeakReference(null);

        Assert.Equal(0, await UnloadVerifier.WaitForCollectionAsync(weak, _clock));
        Assert.Equal(0, _clock.ScheduledTimers);
    }

    // Not inlined: the target must not survive in a local of the test method.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference HoldNewTarget()
    {
        var target = new byte[64];
        _holder = target;
        return new WeakReference(target);
    }
}
