using System.Diagnostics;
using PluginHost.Contracts.Testing;

namespace PluginHost.Station.Tests;

/// <summary>
/// A private PostgreSQL server (Debian's postgresql) on a free loopback port with its own data folder,
/// started for a test class and stopped after it: a real central results database. As root (CI),
/// the server runs as the postgres user, as PostgreSQL requires.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("pg");
    private readonly string _bin;
    private bool _started;

    public PostgresServer()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).Order().LastOrDefault() ?? ""
            : "";
        Port = StationPaths.FreePort();
    }

    public int Port { get; }

    public string ConnectionString(string database = "postgres") => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false;Timeout=5";

    public async Task StartAsync()
    {
        Prerequisite.Program(Path.Combine(_bin, "initdb"), "postgresql");
        var data = _dir.Combine("data");
        var sockets = _dir.Combine("sockets");
        Directory.CreateDirectory(sockets);
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", "-R", "postgres:postgres", _dir.Path);
            File.SetUnixFileMode(_dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }

        await AsServerUserAsync(Path.Combine(_bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        await AsServerUserAsync(Path.Combine(_bin, "pg_ctl"), "-D", data, "-l", _dir.Combine("server.log"), "-w", "-t", "30",
            "-o", $"-p {Port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", "start");
        _started = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            await AsServerUserAsync(Path.Combine(_bin, "pg_ctl"), "-D", _dir.Combine("data"), "-m", "immediate", "-w", "stop");
        }

        _dir.Dispose();
    }

    private Task AsServerUserAsync(string program, params string[] args) =>
        Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", program, .. args]) : RunAsync(program, args);

    private static async Task RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await output}{await errors}");
        }
    }
}
