namespace PluginHost.Cli;

/// <summary>The exit codes of <c>pluginhost</c>, documented in docs/cli.md.</summary>
internal static class ExitCodes
{
    /// <summary>Success; for <c>run</c>, a clean shutdown.</summary>
    public const int Ok = 0;

    /// <summary>
    /// <c>validate</c> found problems, <c>plugins</c> found a plugin that does not load, or a client
    /// command was refused by the host or ended with the unit not where it was asked to be.
    /// </summary>
    public const int Problems = 1;

    /// <summary>The command line itself is wrong (unknown command or option, bad value).</summary>
    public const int Usage = 2;

    /// <summary><c>run</c> could not start: invalid configuration, port in use, unsafe bind.</summary>
    public const int StartupFailed = 3;

    /// <summary>A client command (status, start, logs…) found no host at the address.</summary>
    public const int Unreachable = 4;
}
