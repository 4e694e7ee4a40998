using System.Diagnostics;
using System.Globalization;

namespace PluginHost.Plugins.Shimmy;

/// <summary>GPU memory used by a process, from nvidia-smi (the only portable source on Linux).</summary>
internal static class GpuMemory
{
    public static long? UsedMegabytes(int pid)
    {
        try
        {
            using var smi = System.Diagnostics.Process.Start(new ProcessStartInfo("nvidia-smi", ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (smi is null)
            {
                return null;
            }

            var output = smi.StandardOutput.ReadToEnd();
            if (!smi.WaitForExit(2000))
            {
                smi.Kill();
                return null;
            }

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
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
