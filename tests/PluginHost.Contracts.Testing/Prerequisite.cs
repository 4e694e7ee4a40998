using System.Diagnostics;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// What a test needs of the machine beyond the .NET SDK (a real peer nobody here wrote): checked at
/// the start of the test, so a missing one fails it at once with what is missing and the command
/// that installs it — never after a minute of waiting, never as a confusing wrong answer.
/// </summary>
public static class Prerequisite
{
    private static readonly Lazy<bool> DebianUvicorn = new(() => Succeeds("/usr/bin/python3", "-c", "import uvicorn, fastapi"));

    /// <summary>Debian's /usr/bin/python3 with uvicorn and fastapi (the python-server plugin's real peer).</summary>
    public static void PythonWithUvicorn()
    {
        if (!DebianUvicorn.Value)
        {
            throw new Xunit.Sdk.XunitException("this test needs /usr/bin/python3 with uvicorn and fastapi: sudo apt-get install -y python3-uvicorn python3-fastapi (.ci/run installs them)");
        }
    }

    private static readonly Lazy<bool> DebianZmq = new(() => Succeeds("/usr/bin/python3", "-c", "import zmq"));

    /// <summary>Debian's /usr/bin/python3 with pyzmq (the station protocol's real peer: libzmq, not NetMQ).</summary>
    public static void PythonWithZmq()
    {
        if (!DebianZmq.Value)
        {
            throw new Xunit.Sdk.XunitException("this test needs /usr/bin/python3 with pyzmq: sudo apt-get install -y python3-zmq (.ci/run installs it)");
        }
    }

    /// <summary>Debian's /usr/bin/python3 with a module, and the Debian package that brings it.</summary>
    public static void PythonWithModule(string module, string package)
    {
        if (!Succeeds("/usr/bin/python3", "-c", $"import {module}"))
        {
            throw new Xunit.Sdk.XunitException($"this test needs /usr/bin/python3 with {module}: sudo apt-get install -y {package} (.ci/run installs it)");
        }
    }

    /// <summary>A program on the machine, with the Debian package that brings it.</summary>
    public static void Program(string path, string package)
    {
        if (!File.Exists(path))
        {
            throw new Xunit.Sdk.XunitException($"this test needs {path}: sudo apt-get install -y {package} (.ci/run installs it)");
        }
    }

    private static bool Succeeds(string program, params string[] args)
    {
        if (!File.Exists(program))
        {
            return false;
        }

        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
