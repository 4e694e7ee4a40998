namespace PluginHost.Core.Processes;

/// <summary>How a process ended. Both null: not knowable (the process was not the host's child, e.g. after re-attach).</summary>
internal sealed record ExitStatus(int? Code, int? Signal)
{
    public static ExitStatus Unknown { get; } = new(null, null);

    public bool Succeeded => Code == 0;

    public static ExitStatus FromWaitStatus(int status)
    {
        var signal = status & 0x7f;
        return signal == 0 ? new ExitStatus((status >> 8) & 0xff, null) : new ExitStatus(null, signal);
    }

    public override string ToString() => (Code, Signal) switch
    {
        ({ } code, _) => $"exit code {code}",
        (_, { } signal) => $"killed by signal {signal} ({SignalName(signal)})",
        _ => "exit status unknown (not the host's child)",
    };

    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => $"signal {signal}",
    };
}
