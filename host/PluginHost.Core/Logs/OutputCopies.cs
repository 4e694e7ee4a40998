using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>
/// Copies of a running process's output into files its launch plan names (launchd's
/// StandardOutPath / StandardErrorPath), each line as the program wrote it, rotated like the host's
/// own log. One file when both streams name the same path. Callers serialize access (the unit's log lock).
/// </summary>
internal sealed class OutputCopies : IDisposable
{
    private readonly RotatingLogFile? _stdout;
    private readonly RotatingLogFile? _stderr;

    private OutputCopies(RotatingLogFile? stdout, RotatingLogFile? stderr)
    {
        _stdout = stdout;
        _stderr = stderr;
    }

    public string? StdoutPath => _stdout?.Path;

    public string? StderrPath => _stderr?.Path;

    /// <returns>Null when the plan asks for no copy.</returns>
    /// <exception cref="IOException">A file cannot be opened (its folder cannot be made, it is not a regular file…).</exception>
    public static OutputCopies? Open(string? stdoutPath, string? stderrPath, LogSettings settings)
    {
        if (stdoutPath is null && stderrPath is null)
        {
            return null;
        }

        var stdout = stdoutPath is null ? null : new RotatingLogFile(Path.GetFullPath(stdoutPath), settings, stamped: false);
        try
        {
            var stderr = stderrPath is null ? null
                : stdout is not null && Path.GetFullPath(stderrPath) == stdout.Path ? stdout
                : new RotatingLogFile(Path.GetFullPath(stderrPath), settings, stamped: false);
            return new OutputCopies(stdout, stderr);
        }
        catch
        {
            stdout?.Dispose();
            throw;
        }
    }

    public void Write(OutputStream stream, DateTimeOffset timestamp, ReadOnlySpan<byte> utf8)
    {
        var file = stream == OutputStream.Stderr ? _stderr : _stdout;
        file?.Write(stream, timestamp, utf8);
    }

    public void Flush()
    {
        _stdout?.Flush();
        if (_stderr != _stdout)
        {
            _stderr?.Flush();
        }
    }

    public void Dispose()
    {
        _stdout?.Dispose();
        if (_stderr != _stdout)
        {
            _stderr?.Dispose();
        }
    }
}
