using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Plugins.StationBatch.Results;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace PluginHost.Station.Sync;

/// <summary>
/// Sends the results database's <c>sync_queue</c> to the backend, oldest first, in batches, until it is
/// empty; then waits for the interval, for a nudge (<c>SIGUSR1</c>: the unit's <c>sync</c>
/// operation), or for its stop. Each batch goes through a Polly pipeline — a timeout per attempt and
/// three quick retries with exponential backoff and jitter for what may pass (a timeout, a 5xx, a
/// refused connection). A batch that still fails stays in the queue with its retry count raised and
/// the reason kept, and the next try waits longer (doubling from 1 s up to the interval). Nothing
/// leaves the queue before the backend took it, so a crash or a stop at any moment resends at most
/// what the backend already has, which its keys make harmless.
/// </summary>
internal sealed partial class SyncWorker(SyncSettings settings, ISyncTarget target, SyncNudge nudge, TimeProvider time, ILogger<SyncWorker> logger) : BackgroundService
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>()
                    .Handle<SyncRefusedException>(e => !e.Permanent).Handle<Npgsql.NpgsqlException>(e => e.IsTransient),
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
            })
            .AddTimeout(settings.Timeout)
            .Build();
        using var db = ResultsDatabase.Open(settings.Database);
        using var queue = new SyncQueue(db, target.Name, time);
        var backoff = TimeSpan.Zero;
        LogStarted(target.Name, settings.Station, settings.Interval.TotalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = backoff > TimeSpan.Zero ? backoff : settings.Interval;
            try
            {
                var sent = await DrainAsync(queue, pipeline, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.Zero;
                wait = settings.Interval;
                if (sent > 0)
                {
                    LogSent(sent, target.Name);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, settings.Interval.Ticks));
                wait = backoff;
                LogFailed(target.Name, Describe(ex), queue.Depth(), backoff.TotalSeconds);
            }

            await nudge.WaitAsync(wait, stoppingToken).ConfigureAwait(false);
        }

        // The stop of §7.2: flush what the backend takes within the deadline, then close the database.
        using var flush = new CancellationTokenSource(settings.Timeout, time);
        var started = time.GetTimestamp();
        try
        {
            var sent = await DrainAsync(queue, pipeline, flush.Token).ConfigureAwait(false);
            LogFlushed(sent, queue.Depth(), time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFlushFailed(Describe(ex), queue.Depth(), time.GetElapsedTime(started).TotalMilliseconds);
        }

        LogClosed(); // the database closes as this method returns (its using)
    }

    /// <returns>How many rows the backend took.</returns>
    private async Task<int> DrainAsync(SyncQueue queue, ResiliencePipeline pipeline, CancellationToken cancellationToken)
    {
        var sent = 0;
        while (queue.Head(settings.BatchSize) is { Count: > 0 } items)
        {
            try
            {
                await pipeline.ExecuteAsync(async token => await target.SendAsync(items, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException) || !cancellationToken.IsCancellationRequested)
            {
                queue.Failed(items, Describe(ex));
                throw;
            }

            queue.Sent(items);
            sent += items.Count;
        }

        if (sent == 0)
        {
            queue.Idle();
        }

        return sent;
    }

    private static string Describe(Exception ex) => ex switch
    {
        TimeoutRejectedException => "the backend did not answer in time",
        HttpRequestException http => $"the backend cannot be reached: {http.Message}",
        _ => ex.Message,
    };

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "sync to {Target} for station {Station} every {Seconds} s")]
    private partial void LogStarted(string target, string station, double seconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "sent {Count} result row(s) to {Target}")]
    private partial void LogSent(int count, string target);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "SYNC_FAILED: {Target}: {Reason}; {Depth} row(s) wait, next try in {Seconds} s")]
    private partial void LogFailed(string target, string reason, long depth, double seconds);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "stopping: flushed {Count} row(s), {Depth} left for the next start, in {Milliseconds:F0} ms")]
    private partial void LogFlushed(int count, long depth, double milliseconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "stopping: the flush failed ({Reason}); {Depth} row(s) left for the next start, after {Milliseconds:F0} ms")]
    private partial void LogFlushFailed(string reason, long depth, double milliseconds);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "stopping: results database closed")]
    private partial void LogClosed();
}
