using System.Runtime.InteropServices;

namespace PluginHost.Cli;

/// <summary>
/// SIGTERM, SIGINT (Ctrl-C) and SIGQUIT, from the moment this is made: their default action (ending
/// the process at once, units unstopped) is cancelled and <see cref="Requested"/> completes instead.
/// </summary>
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
