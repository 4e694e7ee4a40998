using System.Runtime.InteropServices;
using PluginHost.Plugins.Process;

namespace PluginHost.Plugins.Shimmy.Accel;

/// <summary>The real machine: PATH, the dynamic linker's usual folders, and the ICD folders.</summary>
internal sealed class SystemAccelProbes : IAccelProbes
{
    private static readonly string[] LibraryFolders =
    [
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu", "/usr/local/cuda/lib64", "/usr/lib/wsl/lib",
    ];

    private static readonly Dictionary<string, string[]> DriverFolders = new(StringComparer.Ordinal)
    {
        ["vulkan"] = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"],
        ["opencl"] = ["/etc/OpenCL/vendors"],
    };

    public bool IsMacOS => OperatingSystem.IsMacOS();

    public Architecture Architecture => RuntimeInformation.OSArchitecture;

    public bool CommandExists(string name) => CommandLocator.Resolve(name, Environment.CurrentDirectory) is not null;

    public bool LibraryExists(string fileName)
    {
        var extra = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return extra.Concat(LibraryFolders).Any(folder => File.Exists(Path.Combine(folder, fileName)));
    }

    public bool DriverManifestExists(string api) =>
        DriverFolders.TryGetValue(api, out var folders) && folders.Any(f => Directory.Exists(f) && Directory.EnumerateFiles(f).Any());
}
