using System.Diagnostics;
using Proc = System.Diagnostics.Process;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Testing;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>The real peers these tests check against: Python's plistlib and systemd's own unit verifier.</summary>
internal static class Peers
{
    private static readonly string PlistPeer = Path.Combine(AppContext.BaseDirectory, "plistlib_peer.py");

    /// <summary>plistlib writes every case in both forms, with its canonical JSON beside it.</summary>
    public static void MakeCases(string folder) => Run("/usr/bin/python3", PlistPeer, "make", folder);

    /// <summary>What plistlib reads in a file, as canonical JSON.</summary>
    public static JsonNode ReadWithPlistlib(string file) => JsonNode.Parse(Run("/usr/bin/python3", PlistPeer, "read", file))!;

    public static void ToBinaryWithPlistlib(string from, string to) => Run("/usr/bin/python3", PlistPeer, "binary", from, to);

    /// <summary><c>systemd-analyze verify</c> on unit files: its output (empty when it finds nothing to say) and exit code.</summary>
    public static (int Code, string Output) VerifyWithSystemd(params string[] units)
    {
        Prerequisite.Program("/usr/bin/systemd-analyze", "systemd");
        return RunCode("/usr/bin/systemd-analyze", ["verify", "--man=no", .. units]);
    }

    public static string Run(string program, params string[] args)
    {
        if (program == "/usr/bin/python3")
        {
            Prerequisite.Program(program, "python3");
        }

        var (code, output) = RunCode(program, args);
        return code == 0 ? output : throw new Xunit.Sdk.XunitException($"{program} {string.Join(' ', args)} exited {code}:\n{output}");
    }

    private static (int Code, string Output) RunCode(string program, string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Proc.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{program} did not finish within 60 s");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
