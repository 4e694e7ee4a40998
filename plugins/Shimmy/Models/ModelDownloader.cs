using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace PluginHost.Plugins.Shimmy.Models;

/// <summary>Bytes so far and the total when the server said it (null otherwise).</summary>
internal readonly record struct DownloadProgress(long Bytes, long? Total);

/// <summary>Why a download ended without a verified file; the message says what to do.</summary>
internal sealed class DownloadFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Downloads a model file: into <c>NAME.part</c>, resuming with an HTTP Range request after a
/// broken transfer, retrying with exponential backoff, verifying SHA-256 before the file takes its
/// real name (so a half-written or corrupt model is never seen by shimmy).
/// </summary>
internal sealed class ModelDownloader
{
    // Made at the first download, not when the plugin loads: most hosts never download a model, and
    // the HTTP stack it brings in costs the host ≈ 1–2 MB resident. No HttpClient in a constructor's
    // signature either: calling it would load System.Net.Http (≈ 0.9 MB) when the plugin loads.
    private static readonly Lazy<HttpClient> SharedClient = new(() =>
        new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, ConnectTimeout = TimeSpan.FromSeconds(15) })
        {
            Timeout = Timeout.InfiniteTimeSpan, // a model takes minutes; a stalled read is caught by the read timeout below
        });

    /// <summary>How long a read may make no progress before the attempt counts as broken.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static string PartialPath(string target) => target + ".part";

    /// <returns>The number of attempts it took.</returns>
    public async Task<int> DownloadAsync(ModelSource source, string target, IProgress<DownloadProgress>? progress, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var part = PartialPath(target);
        Exception? last = null;
        for (var attempt = 1; attempt <= source.Retries + 1; attempt++)
        {
            try
            {
                await TransferAsync(new Uri(source.Url), part, progress, cancellationToken).ConfigureAwait(false);
                if (source.Sha256 is { } expected)
                {
                    var actual = await Sha256Async(part, cancellationToken).ConfigureAwait(false);
                    if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                    {
                        File.Delete(part); // corrupt: resuming it would only extend the corruption
                        throw new DownloadFailedException($"checksum mismatch: expected SHA-256 {expected}, got {actual}");
                    }
                }

                File.Move(part, target, overwrite: true);
                return attempt;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or DownloadFailedException or TimeoutException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                last = ex;
                if (attempt <= source.Retries)
                {
                    await Task.Delay(Backoff(attempt), time, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        throw new DownloadFailedException($"{source.Url}: {last?.Message} (after {source.Retries + 1} attempts)", last);
    }

    /// <summary>1 s, 2 s, 4 s… capped at 30 s.</summary>
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, attempt - 1)));

    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        var file = File.OpenRead(path);
        await using (file.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
        }
    }

    private async Task TransferAsync(Uri url, string part, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
        }

        using var response = await SharedClient.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            return; // the partial file is already whole; the checksum decides
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        var resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed)
        {
            have = 0; // the server ignored the range: start over
        }

        var total = response.Content.Headers.ContentLength is { } length ? length + have : (long?)null;
        var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await using (output.ConfigureAwait(false))
        {
            var input = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (input.ConfigureAwait(false))
            {
                var buffer = new byte[1 << 16];
                while (true)
                {
                    using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    stall.CancelAfter(ReadTimeout);
                    var read = await input.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    have += read;
                    progress?.Report(new DownloadProgress(have, total));
                }
            }
        }

        if (total is { } expected && have < expected)
        {
            throw new IOException($"the transfer ended at {have} of {expected} bytes");
        }
    }
}
