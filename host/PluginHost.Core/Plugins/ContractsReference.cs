using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Reads, without loading it, which version of PluginHost.Contracts an assembly was compiled
/// against. This is the truth about compatibility: plugin.yaml only repeats it.
/// </summary>
internal static class ContractsReference
{
    public const string AssemblyName = "PluginHost.Contracts";

    /// <returns>The referenced version, or null when the assembly does not reference the contracts.</returns>
    /// <exception cref="BadImageFormatException">The file is not a .NET assembly.</exception>
    public static Version? Read(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException("the file has no .NET metadata", assemblyPath);
        }

        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.AssemblyReferences)
        {
            var reference = metadata.GetAssemblyReference(handle);
            if (metadata.StringComparer.Equals(reference.Name, AssemblyName))
            {
                return reference.Version;
            }
        }

        return null;
    }
}
