using System.Net;
using System.Net.Sockets;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;
using PluginHost.Core.Processes;

namespace PluginHost.Core.Supervision.Health;

/// <summary>
/// Runs one attempt of a manifest probe: http (2xx within the timeout), tcp (connection accepted),
/// exec (exit code 0 within the timeout; its whole session is killed after every run). Log-line probes
/// are not polled: the unit watches its captured lines for them.
/// </summary>
/// <remarks>
/// The HTTP client is made at the first http probe, and no field of this class names its type: a
/// host whose units have none does not even load System.Net.Http (≈ 1–2 MB resident with the stack).
/// </remarks>
internal sealed class ProbeRunner(TimeProvider time)
{

    public async Task<ProbeResult> RunAsync(ProbeDefinition probe, IReadOnlyDictionary<string, int> ports, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(probe);
        using var deadline = new CancellationTokenSource(probe.Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return probe switch
            {
                HttpProbe h => await HttpAsync(h, Port(h.Port, ports), timeout.Token).ConfigureAwait(false),
                TcpProbe t => await TcpAsync(Port(t.Port, ports), timeout.Token).ConfigureAwait(false),
                ExecProbe e => await ExecAsync(e, timeout.Token).ConfigureAwait(false),
                _ => ProbeResult.Unsupported,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ProbeResult.Unhealthy($"no answer within {PluginHost.Contracts.Specs.Duration.Format(probe.Timeout)}");
        }
    }

    private static int Port(string name, IReadOnlyDictionary<string, int> ports) =>
        ports.TryGetValue(name, out var port) ? port : throw new InvalidOperationException($"port {name} was not allocated");

    private static async Task<ProbeResult> HttpAsync(HttpProbe probe, int port, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.Client.GetAsync(new Uri($"http://127.0.0.1:{port}{probe.Path}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            return code is >= 200 and < 300 ? ProbeResult.Healthy : ProbeResult.Unhealthy($"GET {probe.Path} on port {port} answered {code}");
        }
        catch (HttpRequestException ex)
        {
            return ProbeResult.Unhealthy($"GET {probe.Path} on port {port} failed: {ex.Message}");
        }
    }

    private static async Task<ProbeResult> TcpAsync(int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            return ProbeResult.Healthy;
        }
        catch (SocketException ex)
        {
            return ProbeResult.Unhealthy($"connection to port {port} failed: {ex.SocketErrorCode}");
        }
    }

    /// <summary>
    /// Runs the probe's command in a session of its own and, however it ends (exit, timeout), stops
    /// that whole session: a probe that leaves a background process behind (<c>sleep 9 &amp; exit 0</c>)
    /// must not leave one per run.
    /// </summary>
    private static async Task<ProbeResult> ExecAsync(ExecProbe probe, CancellationToken cancellationToken)
    {
        if (Executables.Find(probe.Command) is not { } command)
        {
            return ProbeResult.Unhealthy($"{probe.Command} could not be started: not found (on PATH, or as a path)");
        }

        int pid;
        try
        {
            pid = ProcessSpawner.SpawnDetached(new SpawnRequest(command, probe.Arguments, new Dictionary<string, string>(), Environment.CurrentDirectory));
        }
        catch (SpawnException ex)
        {
            return ProbeResult.Unhealthy($"{probe.Command} could not be started: {ex.Message}");
        }

        var exited = ExitWatch.WhenExited(pid, isChild: true);
        try
        {
            var status = await exited.WaitAsync(cancellationToken).ConfigureAwait(false);
            return status.Succeeded ? ProbeResult.Healthy : ProbeResult.Unhealthy($"{probe.Command} ended with {status}");
        }
        finally
        {
            // The probe's session, whatever is left of it: SIGKILL, no grace (nothing of a probe is worth waiting for).
            ProcessGroupStopper.Signal(new ProcessFamily(pid), LibC.SIGKILL);
        }
    }

    /// <summary>Initialized at its first use (an http probe), not with the runner.</summary>
    private static class Http
    {
        public static readonly HttpClient Client = new();
    }
}
