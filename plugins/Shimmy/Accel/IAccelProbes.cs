using System.Runtime.InteropServices;

namespace PluginHost.Plugins.Shimmy.Accel;

/// <summary>What <see cref="AccelDetector"/> asks of the machine.</summary>
internal interface IAccelProbes
{
    bool IsMacOS { get; }

    Architecture Architecture { get; }

    bool CommandExists(string name);

    bool LibraryExists(string fileName);

    /// <summary>An installed driver manifest (ICD) for the API: <c>vulkan</c> or <c>opencl</c>.</summary>
    bool DriverManifestExists(string api);
}
