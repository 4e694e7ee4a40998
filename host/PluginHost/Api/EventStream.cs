using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginHost.Core.Events;
using PluginHost.Core.Storage;

namespace PluginHost.Api;

/// <summary>
/// <c>GET /api/events</c>: the host's events as server-sent events, optionally of one unit.
/// <list type="bullet">
/// <item>Each event carries its id; a client that reconnects with <c>Last-Event-ID</c> (or
/// <c>?since=ID</c>) first gets what it missed, from the in-memory ring and the event journal,
/// then the live stream, with no duplicate.</item>
/// <item>A slow client never slows supervision: its queue is bounded (<see cref="QueueCapacity"/>);
/// when it overflows, the oldest queued events are dropped and the client receives, where they
/// were, <c>event: gap</c> with <c>{missed, afterId, beforeId}</c> — reconnecting with
/// <c>Last-Event-ID: afterId</c> replays them from the journal.</item>
/// <item>A comment line every <see cref="KeepAlive"/> keeps idle connections and proxies alive.</item>
/// </list>
/// </summary>
internal static class EventStream
{
    public const int QueueCapacity = 1024;
    private const int ReplayPage = 1000;
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static async Task ServeAsync(HttpContext http, EventBus bus, EventJournal? journal, string? unit, long? resumeAfter, CancellationToken stopping)
    {
        // Ends when the client leaves or the host stops (a stream never holds up the host's shutdown).
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var cancellationToken = ended.Token;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var body = http.Response.Body;

        using var subscription = bus.Subscribe(QueueCapacity, unit is null ? null : e => e.Unit == unit);
        var lastSent = resumeAfter ?? subscription.StartedAfter;
        try
        {
            if (resumeAfter is { } after)
            {
                lastSent = await ReplayAsync(body, bus, journal, unit, after, cancellationToken).ConfigureAwait(false);
            }

            await WriteAsync(body, ": connected\nretry: 1000\n\n", cancellationToken).ConfigureAwait(false);
            await body.FlushAsync(cancellationToken).ConfigureAwait(false);
            await LiveAsync(body, subscription, lastSent, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The connection broke.
        }
    }

    /// <returns>The id of the last event sent.</returns>
    private static async Task<long> ReplayAsync(Stream body, EventBus bus, EventJournal? journal, string? unit, long after, CancellationToken cancellationToken)
    {
        var lastSent = after;
        var expected = after + 1; // with every unit's events, ids run without a hole: a hole is a loss to report
        var first = true;
        while (true)
        {
            // The journal is written in the background; the ring covers what it has not reached yet.
            var page = new SortedDictionary<long, SequencedEvent>();
            foreach (var e in journal?.After(lastSent, unit, ReplayPage) ?? [])
            {
                page[e.Id] = e;
            }

            if (page.Count < ReplayPage)
            {
                foreach (var e in bus.RecentSequenced().Where(e => e.Id > lastSent && (unit is null || e.Event.Unit == unit)))
                {
                    page[e.Id] = e;
                }
            }

            if (first)
            {
                first = false;
                var oldestKept = Math.Min(journal?.FirstId() is > 0 and var j ? j : long.MaxValue, bus.RecentSequenced().FirstOrDefault()?.Id ?? long.MaxValue);
                if (oldestKept != long.MaxValue && oldestKept > after + 1)
                {
                    // Older than anything kept: say so instead of pretending the stream is whole.
                    await WriteGapAsync(body, missed: oldestKept - after - 1, exact: unit is null, after, oldestKept, "expired", cancellationToken).ConfigureAwait(false);
                    expected = oldestKept;
                }
            }

            if (page.Count == 0)
            {
                return lastSent;
            }

            foreach (var e in page.Values)
            {
                if (unit is null && e.Id > expected)
                {
                    // Published, but neither journaled (the journal's queue overflowed while the disk
                    // refused writes) nor still in the ring.
                    await WriteGapAsync(body, e.Id - expected, exact: true, lastSent, e.Id, "not-journaled", cancellationToken).ConfigureAwait(false);
                }

                await WriteEventAsync(body, e, cancellationToken).ConfigureAwait(false);
                lastSent = e.Id;
                expected = e.Id + 1;
            }

            await body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task LiveAsync(Stream body, EventBus.Subscription subscription, long lastSent, CancellationToken cancellationToken)
    {
        // Where the subscription stands: dropped events lie between the previous one received and the next.
        var (lastPosition, previousId) = (0L, subscription.StartedAfter);
        var reader = subscription.Reader;
        while (true)
        {
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                idle.CancelAfter(KeepAlive);
                try
                {
                    if (!await reader.WaitToReadAsync(idle.Token).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await WriteAsync(body, ": keepalive\n\n", cancellationToken).ConfigureAwait(false);
                    await body.FlushAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            while (reader.TryRead(out var e))
            {
                var dropped = e.Position - lastPosition - 1;
                if (dropped > 0 && e.Id > lastSent)
                {
                    // Exact unless some of the dropped ones may already have gone out in the replay.
                    await WriteGapAsync(body, dropped, exact: previousId >= lastSent, lastSent, e.Id, "slow-client", cancellationToken).ConfigureAwait(false);
                }

                (lastPosition, previousId) = (e.Position, e.Id);
                if (e.Id <= lastSent)
                {
                    continue; // already sent by the replay
                }

                await WriteEventAsync(body, e.Item, cancellationToken).ConfigureAwait(false);
                lastSent = e.Id;
            }

            await body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly byte[] DataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] FrameEnd = "\n\n"u8.ToArray();

    /// <summary>Writes <c>id: N</c> and the event's shared JSON (<see cref="SequencedEvent.Json"/>) as one frame.</summary>
    private static async Task WriteEventAsync(Stream body, SequencedEvent e, CancellationToken cancellationToken)
    {
        var json = e.Json;
        var frame = new byte[24 + DataPrefix.Length + json.Length + FrameEnd.Length];
        var length = Encoding.ASCII.GetBytes($"id: {e.Id}", frame);
        DataPrefix.CopyTo(frame, length);
        length += DataPrefix.Length;
        json.CopyTo(frame, length);
        length += json.Length;
        FrameEnd.CopyTo(frame, length);
        length += FrameEnd.Length;
        await body.WriteAsync(frame.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
    }

    private static Task WriteGapAsync(Stream body, long missed, bool exact, long afterId, long beforeId, string reason, CancellationToken cancellationToken)
    {
        var data = new JsonObject
        {
            ["missed"] = missed,
            ["exact"] = exact,
            ["afterId"] = afterId,
            ["beforeId"] = beforeId,
            ["reason"] = reason,
            ["remedy"] = reason switch
            {
                "slow-client" => $"reconnect with Last-Event-ID: {afterId} to replay them from the journal",
                "not-journaled" => "they were lost while the data folder's disk was full (see the storage_failed event); GET /api/units for the current state",
                _ => "they are older than the journal keeps; GET /api/units for the current state",
            },
        };
        return WriteAsync(body, $"event: gap\ndata: {data.ToJsonString()}\n\n", cancellationToken);
    }

    private static Task WriteAsync(Stream body, string text, CancellationToken cancellationToken) =>
        body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).AsTask();

    /// <summary>Reads <c>Last-Event-ID</c>, else <c>?since=</c>.</summary>
    public static long? ResumePoint(HttpRequest request)
    {
        var text = request.Headers["Last-Event-ID"].FirstOrDefault() ?? request.Query["since"].FirstOrDefault();
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
    }
}
