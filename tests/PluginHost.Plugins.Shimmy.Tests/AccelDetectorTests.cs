using System.Runtime.InteropServices;
using PluginHost.Plugins.Shimmy.Accel;
using Xunit;

namespace PluginHost.Plugins.Shimmy.Tests;

/// <summary>Accelerator detection, each rule with injected probes (no GPU needed).</summary>
public sealed class AccelDetectorTests
{
    private sealed record Machine(bool IsMacOS = false, Architecture Architecture = Architecture.X64, string[]? Commands = null, string[]? Libraries = null, string[]? Drivers = null) : IAccelProbes
    {
        public bool CommandExists(string name) => Commands?.Contains(name) == true;

        public bool LibraryExists(string fileName) => Libraries?.Contains(fileName) == true;

        public bool DriverManifestExists(string api) => Drivers?.Contains(api) == true;
    }

    private static readonly Dictionary<string, Machine> Fleet = new()
    {
        ["bare Linux"] = new Machine(),
        ["NVIDIA with nvidia-smi"] = new Machine(Commands: ["nvidia-smi"]),
        ["NVIDIA driver without nvidia-smi"] = new Machine(Libraries: ["libcuda.so.1"]),
        ["Vulkan loader and ICD"] = new Machine(Libraries: ["libvulkan.so.1"], Drivers: ["vulkan"]),
        ["Vulkan loader without a driver"] = new Machine(Libraries: ["libvulkan.so.1"]),
        ["OpenCL loader and ICD"] = new Machine(Libraries: ["libOpenCL.so.1"], Drivers: ["opencl"]),
        ["everything on Linux"] = new Machine(Commands: ["nvidia-smi"], Libraries: ["libvulkan.so.1", "libOpenCL.so.1"], Drivers: ["vulkan", "opencl"]),
        ["Apple silicon"] = new Machine(IsMacOS: true, Architecture: Architecture.Arm64),
        ["Intel Mac"] = new Machine(IsMacOS: true),
        ["macOS ignores Linux libraries"] = new Machine(IsMacOS: true, Commands: ["nvidia-smi"]),
    };

    [Theory]
    [InlineData("bare Linux", "cpu")]
    [InlineData("NVIDIA with nvidia-smi", "cuda,cpu")]
    [InlineData("NVIDIA driver without nvidia-smi", "cuda,cpu")]
    [InlineData("Vulkan loader and ICD", "vulkan,cpu")]
    [InlineData("Vulkan loader without a driver", "cpu")]
    [InlineData("OpenCL loader and ICD", "opencl,cpu")]
    [InlineData("everything on Linux", "cuda,vulkan,opencl,cpu")]
    [InlineData("Apple silicon", "mlx,metal,cpu")]
    [InlineData("Intel Mac", "metal,cpu")]
    [InlineData("macOS ignores Linux libraries", "metal,cpu")]
    public void Detects_what_the_machine_offers_best_first(string machine, string expected)
    {
        var report = AccelDetector.Detect(Fleet[machine]);

        Assert.Equal(expected, string.Join(',', report.Available.Select(AccelDetector.Name)));
        Assert.All(report.Available, a => Assert.False(string.IsNullOrEmpty(report.Evidence[a]), machine));
    }

    [Theory]
    [InlineData("auto", false, "cuda")]
    [InlineData("cuda", false, "cuda")]
    [InlineData("cpu", false, "cpu")]
    [InlineData("metal", true, "cpu")]
    [InlineData("metal", false, null)]
    [InlineData("vulkan", false, null)]
    public void Choose_honours_the_request_falls_back_to_CPU_only_when_allowed(string requested, bool fallback, string? expected)
    {
        var report = AccelDetector.Detect(new Machine(Commands: ["nvidia-smi"]));

        var chosen = AccelDetector.Choose(report, requested, fallback);

        Assert.Equal(expected, chosen is { } c ? AccelDetector.Name(c) : null);
    }

    [Theory]
    [InlineData("cuda", "--gpu-backend cuda")]
    [InlineData("vulkan", "--gpu-backend vulkan")]
    [InlineData("opencl", "--gpu-backend opencl")]
    [InlineData("cpu", "--gpu-backend cpu")]
    [InlineData("metal", "--gpu-backend auto")]
    [InlineData("mlx", "--gpu-backend auto")]
    public void Each_accelerator_becomes_shimmys_flag(string accelerator, string flags)
    {
        Assert.Equal(flags, string.Join(' ', AccelDetector.Flags(AccelDetector.Parse(accelerator))));
    }

    [Fact]
    public void This_machine_is_detected_without_throwing_and_always_offers_CPU()
    {
        var report = AccelDetector.Detect(new SystemAccelProbes());

        Assert.Equal(Accelerator.Cpu, report.Available[^1]);
    }
}
