using System.Security.Cryptography;
using PluginHost.Contracts.Testing;
using PluginHost.Plugins.Shimmy.Models;
using Xunit;

namespace PluginHost.Plugins.Shimmy.Tests;

/// <summary>Model downloads over real HTTP: resume, checksum, retries.</summary>
public sealed class ModelDownloaderTests : IDisposable
{
    private static readonly byte[] Model = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
    private static readonly string ModelSha = Convert.ToHexStringLower(SHA256.HashData(Model));
    private readonly TempDirectory _dir = new("shimmy-download");

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine("models", "m.gguf");

    [Fact]
    public async Task A_broken_transfer_resumes_with_a_Range_request_and_the_file_is_verified()
    {
        await using var server = await ModelServer.StartAsync(Model, breakFirst: 1, breakAfterBytes: 1024 * 1024);
        var progress = new List<DownloadProgress>();

        var attempts = await new ModelDownloader().DownloadAsync(new ModelSource(server.Url.ToString(), ModelSha, Retries: 3), Target,
            new SynchronousProgress<DownloadProgress>(progress.Add), TimeProvider.System, CancellationToken.None);

        Assert.Equal(2, attempts);
        Assert.Equal(Model, await File.ReadAllBytesAsync(Target));
        Assert.False(File.Exists(ModelDownloader.PartialPath(Target)));
        var ranges = server.Ranges.ToArray();
        Assert.Equal("", ranges[0]);
        Assert.Matches(@"^bytes=\d+-$", ranges[1]);
        Assert.True(long.Parse(ranges[1][6..^1], System.Globalization.CultureInfo.InvariantCulture) > 0, "the second request resumes after what was received");
        Assert.Equal((Model.Length, (long?)Model.Length), (progress[^1].Bytes, progress[^1].Total));
        Assert.True(progress.Select(p => p.Bytes).SequenceEqual(progress.Select(p => p.Bytes).Order()), "a resumed download never reports going backwards");
    }

    [Fact]
    public async Task A_checksum_that_never_matches_fails_after_every_retry_and_leaves_no_file()
    {
        await using var server = await ModelServer.StartAsync(Model);
        var time = new ManualTimeProvider();
        var wrong = new string('0', 64);

        var download = new ModelDownloader().DownloadAsync(new ModelSource(server.Url.ToString(), wrong, Retries: 2), Target, null, time, CancellationToken.None);
        // The backoff waits on the injected clock: advance it whenever the downloader is waiting.
        while (!download.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(download, Task.Delay(5));
        }

        var error = await Assert.ThrowsAsync<DownloadFailedException>(() => download);
        Assert.Contains("checksum mismatch", error.Message, StringComparison.Ordinal);
        Assert.Contains("after 3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, server.Ranges.Count);
        Assert.All(server.Ranges, r => Assert.Equal("", r)); // a corrupt partial file is never resumed
        Assert.False(File.Exists(Target));
        Assert.False(File.Exists(ModelDownloader.PartialPath(Target)));
    }

    [Fact]
    public async Task An_unreachable_server_is_a_download_failure_not_a_crash()
    {
        var port = System.Net.Sockets.TcpListener.Create(0);
        port.Start();
        var unused = ((System.Net.IPEndPoint)port.LocalEndpoint).Port;
        port.Stop();

        var error = await Assert.ThrowsAsync<DownloadFailedException>(() =>
            new ModelDownloader().DownloadAsync(new ModelSource($"http://127.0.0.1:{unused}/m.gguf", null, Retries: 0), Target, null, TimeProvider.System, CancellationToken.None));

        Assert.Contains($"127.0.0.1:{unused}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_doubles_from_one_second_up_to_thirty()
    {
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 7).Select(a => ModelDownloader.Backoff(a).TotalSeconds));
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
