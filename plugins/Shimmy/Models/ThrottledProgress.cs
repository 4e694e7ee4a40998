namespace PluginHost.Plugins.Shimmy.Models;

/// <summary>Reports download progress at most every 250 ms (and the last value on <see cref="Flush"/>), so events stay few.</summary>
internal sealed class ThrottledProgress(TimeProvider time, Action<DownloadProgress> report) : IProgress<DownloadProgress>
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);
    private readonly Lock _gate = new();
    private long _last = long.MinValue;
    private DownloadProgress? _pending;

    public void Report(DownloadProgress value)
    {
        lock (_gate)
        {
            _pending = value;
            if (_last != long.MinValue && time.GetElapsedTime(_last) < Every)
            {
                return;
            }

            _last = time.GetTimestamp();
            _pending = null;
        }

        report(value);
    }

    public void Flush()
    {
        DownloadProgress? pending;
        lock (_gate)
        {
            pending = _pending;
            _pending = null;
        }

        if (pending is { } value)
        {
            report(value);
        }
    }
}
