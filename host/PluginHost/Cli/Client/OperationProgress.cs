using System.Net.ServerSentEvents;
using System.Text.Json;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary>
/// Runs a long operation while following the unit's events: any event whose payload carries
/// <c>bytes</c> and <c>total</c> (a model download's progress) drives a progress bar; until one
/// arrives the bar is indeterminate. The answer is the operation's, whatever the stream does.
/// </summary>
internal static class OperationProgress
{
    public static async Task<JsonElement> RunAsync(ApiClient client, string unit, string operation, Func<Task<JsonElement>> run, CancellationToken cancellationToken)
    {
        var answer = default(JsonElement);
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"{Markup.Escape(operation)} on {Markup.Escape(unit)}", maxValue: 1).IsIndeterminate();
                using var following = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var follow = FollowAsync(client, unit, task, following.Token);
                try
                {
                    answer = await run().ConfigureAwait(false);
                }
                finally
                {
                    await following.CancelAsync().ConfigureAwait(false);
                    await follow.ConfigureAwait(false);
                }

                if (!task.IsIndeterminate)
                {
                    task.Value = task.MaxValue;
                }

                task.IsIndeterminate = false;
                task.StopTask();
            }).ConfigureAwait(false);
        return answer;
    }

    private static async Task FollowAsync(ApiClient client, string unit, ProgressTask task, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await client.OpenStreamAsync("/api/events?unit=" + Uri.EscapeDataString(unit), cancellationToken).ConfigureAwait(false);
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                using var e = JsonDocument.Parse(item.Data);
                if (e.RootElement.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object
                    && payload.TryGetProperty("bytes", out var bytes) && bytes.TryGetInt64(out var done)
                    && payload.TryGetProperty("total", out var total) && total.TryGetInt64(out var all) && all > 0)
                {
                    task.IsIndeterminate = false;
                    task.MaxValue = all;
                    task.Value = done;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException or JsonException or ClientFailure)
        {
            // Progress is a courtesy: the operation's own answer is what the command reports.
        }
    }
}
