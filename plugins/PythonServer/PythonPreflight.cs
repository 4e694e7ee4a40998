using System.Collections.Concurrent;
using System.Diagnostics;
using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.PythonServer;

/// <summary>
/// Before a start: can this python import uvicorn and fastapi? Asks the interpreter itself (the
/// only reliable answer: virtualenvs, pyenv shims and Debian's dist-packages all differ), and when
/// it cannot, names the module and a python on this machine that can, if there is one. A success
/// is remembered per interpreter file, so restarts do not pay for it again.
/// </summary>
internal static class PythonPreflight
{
    private static readonly string[] Modules = ["uvicorn", "fastapi"];
    private static readonly string[] OtherPythons = ["/usr/bin/python3", "/usr/local/bin/python3", "/opt/homebrew/bin/python3"];
    private static readonly ConcurrentDictionary<(string, DateTime), bool> Passed = new();

    public static async Task<UnitError?> CheckAsync(string python, CancellationToken cancellationToken)
    {
        var key = (python, File.GetLastWriteTimeUtc(python));
        if (Passed.ContainsKey(key))
        {
            return null;
        }

        var missing = await MissingModuleAsync(python, cancellationToken).ConfigureAwait(false);
        if (missing is null)
        {
            Passed[key] = true;
            return null;
        }

        var alternative = await AlternativeAsync(python, cancellationToken).ConfigureAwait(false);
        var remedy = $"Install it for that interpreter ({python} -m pip install uvicorn fastapi, or on Debian: apt install python3-uvicorn python3-fastapi, which only Debian's /usr/bin/python3 sees)"
            + (alternative is null ? "." : $", or set spec.python: {alternative}, which can import both.");
        return new UnitError(missing == "uvicorn" ? "UVICORN_NOT_FOUND" : "FASTAPI_NOT_FOUND",
            $"{python} cannot import {missing} (No module named '{missing}'). A pyenv or virtualenv python does not see packages installed for another interpreter.",
            remedy);
    }

    /// <summary>The interpreters <c>python: auto</c> tries, in order: the app's own virtualenv, then the machine's.</summary>
    public static IReadOnlyList<string> AutoCandidates(string appDirectory) =>
    [
        Path.Combine(appDirectory, ".venv", "bin", "python"),
        Path.Combine(appDirectory, "venv", "bin", "python"),
        .. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "python3")),
        .. OtherPythons,
    ];

    /// <summary><c>python: auto</c>: the first of <see cref="AutoCandidates"/> that can import uvicorn and fastapi.</summary>
    /// <exception cref="UnitErrorException">UVICORN_NOT_FOUND naming every interpreter tried, when none can.</exception>
    public static async Task<string> FindAsync(string appDirectory, CancellationToken cancellationToken)
    {
        var tried = new List<string>();
        foreach (var candidate in AutoCandidates(appDirectory).Distinct(StringComparer.Ordinal).Where(File.Exists))
        {
            tried.Add(candidate);
            if (await CheckAsync(candidate, cancellationToken).ConfigureAwait(false) is null)
            {
                return candidate;
            }
        }

        throw new UnitErrorException(new UnitError("UVICORN_NOT_FOUND",
            tried.Count == 0 ? "No python3 was found on this machine (spec.python: auto)." : $"No python on this machine can import uvicorn and fastapi (spec.python: auto tried {string.Join(", ", tried)}).",
            "Install them: on Debian or Ubuntu `sudo apt install python3-uvicorn python3-fastapi` (for /usr/bin/python3), elsewhere `python3 -m venv .venv && .venv/bin/pip install uvicorn fastapi` in the app's folder; then start the unit."));
    }

    /// <returns>The first module the interpreter cannot import, or null.</returns>
    private static async Task<string?> MissingModuleAsync(string python, CancellationToken cancellationToken)
    {
        foreach (var module in Modules)
        {
            if (!await CanImportAsync(python, module, cancellationToken).ConfigureAwait(false))
            {
                return module;
            }
        }

        return null;
    }

    private static async Task<string?> AlternativeAsync(string python, CancellationToken cancellationToken)
    {
        foreach (var candidate in OtherPythons.Where(p => p != python && File.Exists(p)))
        {
            if (await MissingModuleAsync(candidate, cancellationToken).ConfigureAwait(false) is null)
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task<bool> CanImportAsync(string python, string module, CancellationToken cancellationToken)
    {
        using var process = System.Diagnostics.Process.Start(new ProcessStartInfo(python, ["-c", $"import {module}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return process.ExitCode == 0;
    }
}
