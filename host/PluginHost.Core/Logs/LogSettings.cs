namespace PluginHost.Core.Logs;

/// <summary>Per-unit output capture: the file rotates at <see cref="MaxFileBytes"/> keeping <see cref="KeepFiles"/> old files; <see cref="TailLines"/> stay in memory.</summary>
internal sealed record LogSettings(long MaxFileBytes = 10 * 1024 * 1024, int KeepFiles = 5, int TailLines = 2000)
{
    public static LogSettings Default { get; } = new();
}
