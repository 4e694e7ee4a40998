using System.Runtime.InteropServices;

namespace PluginHost.Cli;

/// <summary>
/// SIGTERM, SIGINT (Ctrl-C) and SIGQUIT, from the moment this is made: their default action (ending
/// the process at once, units unstopped) is cancelled and <see cref="Requested"/> completes instead.
/// </summary>
/// <remarks>
/// A signal the host was started with ignored stays ignored, as Unix programs do: a shell starts a
/// script's background job with SIGINT and SIGQUIT ignored on purpose, so that Ctrl-C at the terminal
/// does not reach it. Such a host is stopped with SIGTERM, and says so when it starts
/// (<see cref="InheritedIgnored"/>).
/// </remarks>
internal sealed class StopSignals : IDisposable
{
    private readonly TaskCompletionSource _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration[] _registrations;
    private readonly CancellationTokenRegistration _cancelled;

    public StopSignals(CancellationToken cancellationToken)
    {
        _registrations = [Register(PosixSignal.SIGTERM), Register(PosixSignal.SIGINT), Register(PosixSignal.SIGQUIT)];
        _cancelled = cancellationToken.Register(() => _requested.TrySetResult());
    }

    /// <summary>The stop signals among those the host was started with ignored (SigIgn of /proc/self/status), by name.</summary>
    public static IReadOnlyList<string> InheritedIgnored()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            var mask = line is null ? 0 : Convert.ToUInt64(line[7..].Trim(), 16);
            return [.. new[] { (2, "SIGINT"), (3, "SIGQUIT"), (15, "SIGTERM") }.Where(s => (mask & (1UL << (s.Item1 - 1))) != 0).Select(s => s.Item2)];
        }
        catch (IOException)
        {
            return []; // no /proc: nothing to say
        }
    }

    /// <summary>Completes at the first stop signal.</summary>
    public Task Requested => _requested.Task;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cancelled.Dispose();
    }

    private PosixSignalRegistration Register(PosixSignal signal) => PosixSignalRegistration.Create(signal, context =>
    {
        context.Cancel = true;
        _requested.TrySetResult();
    });
}
