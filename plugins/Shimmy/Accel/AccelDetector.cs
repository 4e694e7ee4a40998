using System.Runtime.InteropServices;

namespace PluginHost.Plugins.Shimmy.Accel;

/// <summary>An inference backend shimmy can use.</summary>
internal enum Accelerator
{
    Cpu,
    Cuda,
    Vulkan,
    OpenCL,
    Metal,
    Mlx,
}

/// <summary>What the machine offers, best first (CPU always last).</summary>
internal sealed record AccelReport(IReadOnlyList<Accelerator> Available, IReadOnlyDictionary<Accelerator, string> Evidence)
{
    public Accelerator Best => Available[0];
}

/// <summary>
/// Detects the accelerators of this machine from what the OS shows — never by loading a driver:
/// CUDA (nvidia-smi on PATH or libcuda present), Metal (macOS), MLX (macOS on Apple silicon),
/// Vulkan and OpenCL (loader library plus an installed driver ICD), else CPU. The probes are
/// injected, so each rule is tested without the hardware.
/// </summary>
internal static class AccelDetector
{
    private static readonly Accelerator[] Preference = [Accelerator.Cuda, Accelerator.Mlx, Accelerator.Metal, Accelerator.Vulkan, Accelerator.OpenCL, Accelerator.Cpu];

    public static AccelReport Detect(IAccelProbes probes)
    {
        ArgumentNullException.ThrowIfNull(probes);
        var evidence = new Dictionary<Accelerator, string> { [Accelerator.Cpu] = "always available" };
        if (probes.IsMacOS)
        {
            evidence[Accelerator.Metal] = "macOS";
            if (probes.Architecture == Architecture.Arm64)
            {
                evidence[Accelerator.Mlx] = "macOS on Apple silicon";
            }
        }
        else
        {
            if (probes.CommandExists("nvidia-smi"))
            {
                evidence[Accelerator.Cuda] = "nvidia-smi on PATH";
            }
            else if (probes.LibraryExists("libcuda.so.1"))
            {
                evidence[Accelerator.Cuda] = "libcuda.so.1 installed";
            }

            if (probes.LibraryExists("libvulkan.so.1") && probes.DriverManifestExists("vulkan"))
            {
                evidence[Accelerator.Vulkan] = "libvulkan.so.1 and a Vulkan driver (ICD) installed";
            }

            if (probes.LibraryExists("libOpenCL.so.1") && probes.DriverManifestExists("opencl"))
            {
                evidence[Accelerator.OpenCL] = "libOpenCL.so.1 and an OpenCL driver (ICD) installed";
            }
        }

        return new AccelReport([.. Preference.Where(evidence.ContainsKey)], evidence);
    }

    /// <summary>
    /// The backend to run with: the best one for <c>auto</c>, the requested one when present, else
    /// CPU when the manifest allows the fallback; null when it does not (→ UNSUPPORTED_ACCEL).
    /// </summary>
    public static Accelerator? Choose(AccelReport report, string requested, bool allowCpuFallback)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (requested == "auto")
        {
            return report.Best;
        }

        var wanted = Parse(requested);
        return report.Available.Contains(wanted) ? wanted : allowCpuFallback ? Accelerator.Cpu : null;
    }

    public static Accelerator Parse(string name) => Enum.Parse<Accelerator>(name, ignoreCase: true);

    public static string Name(Accelerator accelerator) => accelerator.ToString().ToLowerInvariant();

    /// <summary>
    /// shimmy's global flag for the backend: <c>--gpu-backend cpu|cuda|vulkan|opencl</c>. The macOS
    /// builds pick Metal (and MLX when built with it) themselves, so those run with <c>auto</c>.
    /// </summary>
    public static IReadOnlyList<string> Flags(Accelerator accelerator) => accelerator switch
    {
        Accelerator.Metal or Accelerator.Mlx => ["--gpu-backend", "auto"],
        _ => ["--gpu-backend", Name(accelerator)],
    };
}
