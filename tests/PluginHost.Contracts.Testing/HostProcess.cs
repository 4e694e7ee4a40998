using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
namespace PluginHost.Contracts.Testing;

/// <summary>
/// The real <c>pluginhost</c> executable started as a child process; always stopped by the test.
/// The contract kit runs plugins in it, so that what a plugin's tests check is what the host does.
/// </summary>
public sealed partial class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>pluginhost.dll as built next to this test assembly's configuration (Debug or Release).</summary>
    public static string Executable { get; } = Path.Combine(RepositoryLayout.Root, "host", "PluginHost", "bin",
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name, "net10.0", "pluginhost.dll");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Pid => _process.Id;

    public static HostProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    public static HostProcess Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Start(workingDirectory, environment, new ProcessStartInfo("dotnet", ["exec", Executable, .. args]));

    /// <summary>
    /// Starts the host through a shell that first opens <paramref name="redirections"/> (e.g.
    /// <c>7&lt;/dev/null 9&gt;&gt;lock</c>) without close-on-exec: descriptors the host inherits, as from
    /// a careless parent.
    /// </summary>
    public static HostProcess StartInheriting(string workingDirectory, string redirections, params string[] args) =>
        Start(workingDirectory, null, new ProcessStartInfo("/bin/bash", ["-c", $"exec {redirections}; exec dotnet exec \"$@\"", "bash", Executable, .. args]));

    /// <summary>Starts the host with at most <paramref name="limit"/> open file descriptors (soft and hard RLIMIT_NOFILE).</summary>
    public static HostProcess StartWithDescriptorLimit(string workingDirectory, int limit, params string[] args) =>
        Start(workingDirectory, null, new ProcessStartInfo("/bin/bash", ["-c", $"ulimit -n {limit} && exec dotnet exec \"$@\"", "bash", Executable, .. args]));

    /// <summary>
    /// Starts the host with these signal dispositions whatever the test runner inherited — under a
    /// script's background job SIGINT and SIGQUIT arrive ignored — e.g. <c>--default-signal=INT,QUIT</c>
    /// or <c>--ignore-signal=INT</c> (coreutils env).
    /// </summary>
    public static HostProcess StartWithSignals(string workingDirectory, string dispositions, params string[] args) =>
        Start(workingDirectory, null, new ProcessStartInfo("env", [dispositions, "dotnet", "exec", Executable, .. args]));

    /// <summary>The signals the process ignores (SigIgn of /proc/PID/status), as signal numbers.</summary>
    public int[] IgnoredSignals()
    {
        var mask = Convert.ToUInt64(File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))[7..].Trim(), 16);
        return [.. Enumerable.Range(1, 64).Where(s => (mask & (1UL << (s - 1))) != 0)];
    }

    private static HostProcess Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, ProcessStartInfo start)
    {
        start.WorkingDirectory = workingDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            if (value.Length == 0)
            {
                start.Environment.Remove(name); // "" unsets (NO_COLOR above, or the runner's own)
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        return new HostProcess(Process.Start(start)!);
    }

    /// <summary>Runs a one-shot command to completion and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, params string[] args) => RunAsync(workingDirectory, null, args);

    /// <summary>As <see cref="RunAsync(string, string[])"/>, with environment variables set ("" unsets one).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        await using var host = Start(workingDirectory, environment, args);
        var code = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, host.Output);
    }

    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as a service manager would.</summary>
    public void Terminate() => _ = Kill(_process.Id, 15);

    /// <summary>Sends <paramref name="signal"/> (2 = SIGINT, as Ctrl-C in a terminal; 3 = SIGQUIT; 15 = SIGTERM).</summary>
    public void Signal(int signal) => _ = Kill(_process.Id, signal);

    /// <summary>kill -9 of the host alone (its units, in sessions of their own, live on).</summary>
    public void Crash() => _ = Kill(_process.Id, 9);

    /// <summary>
    /// A free port for a server the test starts, chosen at random below the kernel's ephemeral range
    /// (32768–60999 on Linux): a port 0 would hand out an ephemeral port, which any outgoing
    /// connection of the tests running in parallel may take as its local port before the server
    /// binds it (seen as a whole test class failing to start its host).
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        throw new InvalidOperationException("no free port found between 20000 and 32000");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
