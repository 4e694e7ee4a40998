using System.Reflection;
using PluginHost.Contracts;
using PluginHost.Contracts.Plugins;

namespace PluginHost.Core.Plugins;

/// <summary>
/// Loads one plugin folder: reads plugin.yaml, shadow-copies the folder (so the original can be
/// rebuilt while this version runs), loads the assembly into its own collectible context, checks
/// the contracts version compiled into it before any of its code runs, and runs its entry point. Every failure is a
/// <see cref="PluginLoadException"/> saying what is wrong and what to do; nothing is left loaded.
/// </summary>
internal sealed class PluginLoader(string shadowRoot, TimeProvider time)
{
    public string ShadowRoot { get; } = shadowRoot;

    public LoadedPlugin Load(string sourceDirectory, int generation)
    {
        var started = time.GetTimestamp();
        var descriptor = ReadDescriptor(sourceDirectory);
        var stamp = ContentStamp.Of(sourceDirectory);
        CheckAssemblyExists(sourceDirectory, descriptor);

        var shadow = ShadowCopy.Create(sourceDirectory, Path.Combine(ShadowRoot, descriptor.Name), generation);
        var context = new PluginLoadContext(Path.Combine(shadow, descriptor.AssemblyFile), $"plugin:{descriptor.Name}#{generation}");
        try
        {
            var assembly = LoadAssembly(context, Path.Combine(shadow, descriptor.AssemblyFile), descriptor);
            CheckContracts(assembly, descriptor);
            var info = new PluginInfo(descriptor.Name, descriptor.Version, descriptor.ContractsVersion, shadow);
            var (instance, registrations) = RunEntryPoint(assembly, descriptor, info);
            CheckKinds(descriptor, registrations);
            var panel = registrations.PanelModule is { } module ? PluginPanel.Read(assembly, module, descriptor) : null;
            return new LoadedPlugin(descriptor, sourceDirectory, shadow, generation, context, instance, registrations, stamp,
                time.GetElapsedTime(started), panel) { LoadedAt = time.GetUtcNow() };
        }
        catch
        {
            context.Unload();
            ShadowCopy.TryDelete(shadow);
            throw;
        }
    }

    private static PluginDescriptor ReadDescriptor(string sourceDirectory)
    {
        var (descriptor, problems) = PluginDescriptorReader.Read(sourceDirectory);
        return descriptor ?? throw new PluginLoadException(PluginLoadFailure.DescriptorInvalid,
            "plugin.yaml is invalid: " + string.Join("; ", problems),
            "Fix plugin.yaml as described (see docs/plugins.md for its fields).");
    }

    private static void CheckAssemblyExists(string sourceDirectory, PluginDescriptor descriptor)
    {
        var path = Path.Combine(sourceDirectory, descriptor.AssemblyFile);
        if (!File.Exists(path))
        {
            throw new PluginLoadException(PluginLoadFailure.AssemblyMissing,
                $"plugin \"{descriptor.Name}\": its assembly {descriptor.AssemblyFile} is not in {sourceDirectory}",
                "Build the plugin (dotnet build) so that its output lands in this folder, or fix 'assembly' in plugin.yaml.");
        }
    }

    /// <summary>Loads the plugin's assembly into its context: metadata only, none of its code runs yet.</summary>
    private static Assembly LoadAssembly(PluginLoadContext context, string assemblyPath, PluginDescriptor descriptor)
    {
        try
        {
            return context.LoadFromAssemblyPath(assemblyPath);
        }
        catch (BadImageFormatException)
        {
            throw new PluginLoadException(PluginLoadFailure.NotDotNetAssembly,
                $"plugin \"{descriptor.Name}\": {descriptor.AssemblyFile} is not a .NET assembly",
                "Point 'assembly' in plugin.yaml at the plugin's compiled .dll and rebuild the plugin.");
        }
    }

    /// <summary>Refuses a plugin built against contracts this host does not provide, before any of its types is resolved.</summary>
    private static void CheckContracts(Assembly assembly, PluginDescriptor descriptor)
    {
        var builtAgainst = ContractsReference.Read(assembly);
        if (builtAgainst is null)
        {
            throw new PluginLoadException(PluginLoadFailure.NotAPlugin,
                $"plugin \"{descriptor.Name}\": {descriptor.AssemblyFile} does not reference {ContractsReference.AssemblyName}",
                "A plugin implements PluginHost.Contracts.Plugins.IPlugin; reference the contracts project (see docs/plugins.md).");
        }

        var declared = new Version(builtAgainst.Major, builtAgainst.Minor);
        if (!ContractsVersion.IsCompatible(declared))
        {
            throw new PluginLoadException(PluginLoadFailure.IncompatibleContracts,
                $"plugin \"{descriptor.Name}\" {descriptor.Version} was built against PluginHost.Contracts {declared}, and this host provides {ContractsVersion.Current}",
                declared.Major != ContractsVersion.Major
                    ? $"Rebuild the plugin against PluginHost.Contracts {ContractsVersion.Major}.x, or run a host whose contracts major version is {declared.Major}."
                    : $"Upgrade the host to one providing contracts {declared} or newer, or rebuild the plugin against {ContractsVersion.Current}.");
        }

        if (descriptor.ContractsVersion.Major != declared.Major || descriptor.ContractsVersion.Minor != declared.Minor)
        {
            throw new PluginLoadException(PluginLoadFailure.DescriptorInvalid,
                $"plugin \"{descriptor.Name}\": plugin.yaml says contracts {descriptor.ContractsVersion}, but {descriptor.AssemblyFile} was built against {declared}",
                $"Set 'contracts: \"{declared}\"' in plugin.yaml.");
        }
    }

    private static (IPlugin Instance, PluginBuilder Registrations) RunEntryPoint(Assembly assembly, PluginDescriptor descriptor, PluginInfo info)
    {
        try
        {
            var entry = FindEntryType(assembly, descriptor);
            var instance = (IPlugin)Activator.CreateInstance(entry)!;
            var builder = new PluginBuilder(info);
            instance.Configure(builder);
            return (instance, builder);
        }
        catch (PluginLoadException)
        {
            throw;
        }
        catch (Exception ex) when (Unwrap(ex) is FileNotFoundException or FileLoadException)
        {
            var missing = Unwrap(ex) is FileNotFoundException { FileName: { } file } ? file : Unwrap(ex).Message;
            throw new PluginLoadException(PluginLoadFailure.MissingDependency,
                $"plugin \"{descriptor.Name}\": a dependency could not be loaded: {missing}",
                "Rebuild the plugin so every dependency is copied beside it (its .deps.json lists them), then reload.", ex);
        }
        catch (Exception ex)
        {
            var inner = Unwrap(ex);
            throw new PluginLoadException(PluginLoadFailure.EntryPointFailed,
                $"plugin \"{descriptor.Name}\": its entry point failed: {inner.GetType().Name}: {inner.Message}",
                "Fix the plugin's Configure method (the exception above says where), rebuild, and reload.", ex);
        }
    }

    private static Type FindEntryType(Assembly assembly, PluginDescriptor descriptor)
    {
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            var first = ex.LoaderExceptions.FirstOrDefault(e => e is not null);
            throw first is FileNotFoundException or FileLoadException ? first : ex;
        }

        var entries = types.Where(t => typeof(IPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToArray();
        return entries.Length switch
        {
            1 when entries[0].GetConstructor(Type.EmptyTypes) is not null => entries[0],
            1 => throw new PluginLoadException(PluginLoadFailure.NotAPlugin,
                $"plugin \"{descriptor.Name}\": {entries[0].FullName} has no public parameterless constructor",
                "Give the IPlugin class a public parameterless constructor."),
            0 => throw new PluginLoadException(PluginLoadFailure.NotAPlugin,
                $"plugin \"{descriptor.Name}\": {descriptor.AssemblyFile} has no public class implementing IPlugin",
                "Add one public class implementing PluginHost.Contracts.Plugins.IPlugin."),
            _ => throw new PluginLoadException(PluginLoadFailure.NotAPlugin,
                $"plugin \"{descriptor.Name}\": several classes implement IPlugin ({string.Join(", ", entries.Select(e => e.FullName))})",
                "Keep exactly one public IPlugin implementation per plugin assembly."),
        };
    }

    private static void CheckKinds(PluginDescriptor descriptor, PluginBuilder registrations)
    {
        var declared = descriptor.Kinds.ToHashSet(StringComparer.Ordinal);
        var registered = registrations.Kinds.Keys.ToHashSet(StringComparer.Ordinal);
        if (!declared.SetEquals(registered))
        {
            throw new PluginLoadException(PluginLoadFailure.KindsMismatch,
                $"plugin \"{descriptor.Name}\": plugin.yaml declares kinds [{string.Join(", ", declared.Order())}] but the plugin registers [{string.Join(", ", registered.Order())}]",
                "Make 'kinds' in plugin.yaml list exactly the kinds the plugin registers.");
        }
    }

    private static Exception Unwrap(Exception ex) => ex is TargetInvocationException { InnerException: { } inner } ? Unwrap(inner) : ex;
}
