using System.Reflection;
using System.Reflection.Metadata;
using System.Runtime.Loader;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Framework libraries in the default context (System.Text.Json above all) cache metadata about
/// every type they have seen, plugin types included, and those caches would keep an unloaded plugin
/// alive. The framework marks such caches with <c>[assembly: MetadataUpdateHandler]</c> for .NET hot
/// reload; calling their <c>ClearCache</c> / <c>UpdateApplication</c> with null empties them, which is
/// exactly what an unload needs.
/// </summary>
internal static class SerializerCaches
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<Assembly, MethodInfo[]> Handlers = [];

    public static void Clear()
    {
        foreach (var method in FindHandlers())
        {
            try
            {
                method.Invoke(null, [null]);
            }
            catch (TargetInvocationException)
            {
                // A handler that fails leaves its cache as it was; the unload verification will say so.
            }
        }
    }

    private static List<MethodInfo> FindHandlers()
    {
        var all = new List<MethodInfo>();
        lock (Gate)
        {
            foreach (var assembly in AssemblyLoadContext.Default.Assemblies)
            {
                if (!Handlers.TryGetValue(assembly, out var methods))
                {
                    methods = HandlersOf(assembly);
                    Handlers[assembly] = methods;
                }

                all.AddRange(methods);
            }
        }

        return all;
    }

    private static MethodInfo[] HandlersOf(Assembly assembly)
    {
        IEnumerable<MetadataUpdateHandlerAttribute> attributes;
        try
        {
            attributes = assembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>();
        }
        catch (Exception ex) when (ex is TypeLoadException or FileNotFoundException or BadImageFormatException)
        {
            return [];
        }

        return attributes
            .SelectMany(a => new[] { "ClearCache", "UpdateApplication" }
                .Select(n => a.HandlerType.GetMethod(n, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Type[])])))
            .OfType<MethodInfo>()
            .ToArray();
    }
}
