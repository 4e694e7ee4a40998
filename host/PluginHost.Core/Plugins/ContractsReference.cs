using System.Reflection;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Which version of PluginHost.Contracts an assembly was compiled against: the truth about
/// compatibility (plugin.yaml only repeats it). Read from the loaded assembly's references, before
/// any of its types is resolved or any of its code runs — the runtime's own metadata reader, so
/// the host does not carry System.Reflection.Metadata (≈ 1.5 MB resident) for this one question.
/// </summary>
internal static class ContractsReference
{
    public const string AssemblyName = "PluginHost.Contracts";

    /// <returns>The referenced version, or null when the assembly does not reference the contracts.</returns>
    public static Version? Read(Assembly assembly) =>
        assembly.GetReferencedAssemblies().FirstOrDefault(r => r.Name == AssemblyName)?.Version;
}
