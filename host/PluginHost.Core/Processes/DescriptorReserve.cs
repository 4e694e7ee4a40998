namespace PluginHost.Core.Processes;

/// <summary>
/// Keeps the host's last file descriptors for the host itself. Every running unit holds three or
/// four (its two pipes, its pidfd, its log file while it writes), so enough units take them all; if a start could take the last
/// ones, the API could not accept a connection, the journal could not open its files, and a scan of
/// /proc could not open the next process's stat — the host would go on running blind. So a start
/// that would leave fewer than <see cref="Reserved"/> free is refused with a clear error instead.
/// </summary>
/// <remarks>
/// Counting the open descriptors (/proc/self/fd) would cost as much as there are units, on every
/// start. The kernel gives out the lowest free number, though: a new descriptor numbered n says
/// that all of 0 … n − 1 are in use. So the numbers of the start's own new descriptors tell, at no
/// cost, when the host has come within <see cref="Reserved"/> of its limit.
/// </remarks>
internal static unsafe class DescriptorReserve
{
    /// <summary>For the API's connections, the journal, log rotation and /proc reads.</summary>
    public const int Reserved = 64;

    /// <summary>Refuses the start when <paramref name="highest"/>, its newest descriptor, is within the reserve of the limit.</summary>
    /// <exception cref="SpawnException">The host is out of descriptors for units; the caller closes what it opened.</exception>
    public static void Check(int highest)
    {
        var limit = Limit();
        if (highest >= limit - Reserved)
        {
            throw new SpawnException(LibC.EMFILE, OutOfDescriptors(limit));
        }
    }

    /// <summary>The message for a start refused, or one the kernel refused with EMFILE (too many open files).</summary>
    public static string OutOfDescriptors(long limit) =>
        $"the host is out of file descriptors: its limit is {limit} and each running unit holds 3 or 4 (the last {Reserved} are kept for the API, " +
        "the journal and the logs); raise the host's limit (ulimit -n before it starts, LimitNOFILE= in its systemd unit) or run fewer units — this start is retried";

    public static long Limit()
    {
        LibC.RLimit limit;
        return LibC.getrlimit(LibC.RLIMIT_NOFILE, &limit) == 0 ? (long)Math.Min(limit.Current, int.MaxValue) : int.MaxValue;
    }
}
