using System.Reflection;
using System.Runtime.Loader;

namespace PluginHost.Core.Plugins;

/// <summary>
/// One plugin's private, collectible load context. The plugin's own dependencies (and native
/// libraries) are resolved from its folder through its .deps.json; the contracts, the assemblies
/// the contracts expose, and the shared framework come from the default context, so that
/// <c>IPlugin</c> and <c>ILogger</c> are the same types on both sides.
/// </summary>
internal sealed class PluginLoadContext(string mainAssemblyPath, string name) : AssemblyLoadContext(name, isCollectible: true)
{
    // Types of these appear in the contracts' signatures: a private copy would make casts fail.
    private static readonly HashSet<string> Shared = new(StringComparer.Ordinal)
    {
        ContractsReference.AssemblyName,
        "Microsoft.Extensions.Logging.Abstractions",
        "Microsoft.Extensions.DependencyInjection.Abstractions",
    };

    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || Shared.Contains(assemblyName.Name))
        {
            return null;
        }

        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
