using System.Diagnostics;
using System.Globalization;

namespace PluginHost.Plugins.Shimmy;

/// <summary>GPU memory used by a process, from nvidia-smi (the only portable source on Linux).</summary>
internal static class GpuMemory
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <returns>MiB the process holds on every NVIDIA GPU; null when nvidia-smi cannot say.</returns>
    public static async Task<long?> UsedMegabytesAsync(int pid, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        System.Diagnostics.Process? smi = null;
        try
        {
            smi = System.Diagnostics.Process.Start(new ProcessStartInfo("nvidia-smi", ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (smi is null)
            {
                return null;
            }

            var output = await smi.StandardOutput.ReadToEndAsync(timeout.Token).ConfigureAwait(false);
            await smi.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return smi.ExitCode == 0 ? Parse(output, pid) : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null; // nvidia-smi hung (a wedged driver does that): no figure this time
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
        finally
        {
            if (smi is { HasExited: false })
            {
                smi.Kill();
            }

            smi?.Dispose();
        }
    }

    /// <summary>Sums the rows of <c>pid, used_memory</c> that belong to <paramref name="pid"/> (one per GPU it uses).</summary>
    public static long Parse(string output, int pid)
    {
        long total = 0;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var cells = line.Split(',', StringSplitOptions.TrimEntries);
            if (cells.Length == 2 && int.TryParse(cells[0], CultureInfo.InvariantCulture, out var owner) && owner == pid
                && long.TryParse(cells[1], CultureInfo.InvariantCulture, out var megabytes))
            {
                total += megabytes;
            }
        }

        return total;
    }
}
