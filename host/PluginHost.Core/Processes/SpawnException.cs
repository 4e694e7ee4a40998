namespace PluginHost.Core.Processes;

/// <summary>posix_spawn failed; <see cref="Errno"/> says why (ENOENT: no such program, EACCES: not executable…).</summary>
internal sealed class SpawnException : Exception
{
    public SpawnException(int errno, string message)
        : base(message)
    {
        Errno = errno;
    }

    public SpawnException()
    {
    }

    public SpawnException(string message)
        : base(message)
    {
    }

    public SpawnException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Errno { get; }
}
