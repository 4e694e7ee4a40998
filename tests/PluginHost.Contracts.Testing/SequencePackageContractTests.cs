using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// The promises of a sequence package with C# steps (docs/station.md, "C# steps"), checked on the
/// built package folder: its <c>sequence.yaml</c> names an assembly that is there; every step it
/// names (<c>code: { step: NAME }</c>) is a <c>[Step("NAME")]</c> method of a <c>[Sequence]</c> class,
/// taking an <c>IStepContext</c> and returning a verdict, a task or nothing; no two methods claim one
/// name; and the assembly, loaded as the worker loads it (a collectible context sharing the step API
/// and the contracts), is collected once let go — so the next run takes up a rebuilt package.
/// The worker checks the same at every start; these tests say it before a station does.
/// </summary>
public abstract class SequencePackageContractTests
{
    private static readonly string[] Shared = ["PluginHost.Contracts", "PluginHost.Station.Steps"];

    /// <summary>The package's build output folder (sequence.yaml and the assembly).</summary>
    protected abstract string PackageFolder { get; }

    [Fact]
    public void Every_step_the_sequence_names_is_a_step_method_of_the_assembly()
    {
        var (assemblyFile, steps) = ReadSequence();
        var context = new PackageContext(PackageFolder);
        try
        {
            var methods = StepMethods(context.LoadFromAssemblyPath(assemblyFile));
            Assert.True(methods.Count > 0, $"{Path.GetFileName(assemblyFile)} has no [Step] method in a public [Sequence] class");
            foreach (var (name, line) in steps)
            {
                Assert.True(methods.ContainsKey(name), $"sequence.yaml:{line}: step \"{name}\" is not a [Step] of {Path.GetFileName(assemblyFile)} (it has {string.Join(", ", methods.Keys.Order(StringComparer.Ordinal))})");
            }

            foreach (var (name, method) in methods)
            {
                var parameters = method.GetParameters();
                Assert.True(parameters.Length == 1 && parameters[0].ParameterType.FullName == "PluginHost.Station.Steps.IStepContext",
                    $"[Step(\"{name}\")] {method.Name} must take one IStepContext");
                var returns = method.ReturnType;
                Assert.True(returns == typeof(void) || returns == typeof(Task) || returns.FullName == "PluginHost.Station.Steps.StepVerdict"
                    || (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(Task<>) && returns.GetGenericArguments()[0].FullName == "PluginHost.Station.Steps.StepVerdict"),
                    $"[Step(\"{name}\")] {method.Name} returns {returns.Name}; a step returns StepVerdict, Task<StepVerdict>, Task or nothing");
            }
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void The_assembly_is_collected_once_let_go()
    {
        var (assemblyFile, _) = ReadSequence();
        var context = LoadAndLetGo(assemblyFile);
        for (var i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(context.IsAlive, "the package's load context was not collected: a static, a timer or a thread of the package keeps it (the worker could not take up a rebuilt package)");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference LoadAndLetGo(string assemblyFile)
    {
        var context = new PackageContext(PackageFolder);
        foreach (var type in StepMethods(context.LoadFromAssemblyPath(assemblyFile)).Values.Select(m => m.DeclaringType!).Distinct())
        {
            _ = Activator.CreateInstance(type); // one instance per [Sequence] class, as the worker makes for a run
        }

        context.Unload();
        return new WeakReference(context);
    }

    /// <summary>The assembly sequence.yaml names and every step it names, with its line.</summary>
    private (string Assembly, IReadOnlyList<(string Name, long Line)> Steps) ReadSequence()
    {
        var path = Path.Combine(PackageFolder, "sequence.yaml");
        Assert.True(File.Exists(path), $"{path} is missing: copy sequence.yaml to the build output (None Include=\"sequence.yaml\" CopyToOutputDirectory=\"PreserveNewest\")");
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        var root = Assert.IsType<YamlMappingNode>(yaml.Documents[0].RootNode);
        var assembly = root.Children.TryGetValue(new YamlScalarNode("assembly"), out var a) && a is YamlScalarNode { Value: { Length: > 0 } name } ? name : null;
        Assert.True(assembly is not null, "sequence.yaml names no assembly: a package with C# steps says `assembly: NAME.dll` at its top");
        var file = Path.Combine(PackageFolder, assembly);
        Assert.True(File.Exists(file), $"sequence.yaml names {assembly}, which is not in {PackageFolder}");
        var steps = new List<(string, long)>();
        Collect(root, steps);
        return (file, steps);
    }

    private static void Collect(YamlNode node, List<(string Name, long Line)> steps)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is YamlScalarNode { Value: "code" } && value is YamlMappingNode code
                        && code.Children.TryGetValue(new YamlScalarNode("step"), out var step) && step is YamlScalarNode { Value: { } name })
                    {
                        steps.Add((name, step.Start.Line));
                    }

                    Collect(value, steps);
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence.Children)
                {
                    Collect(item, steps);
                }

                break;
        }
    }

    /// <summary>[Step] name → method, over the public [Sequence] classes (attributes matched by name: the kit does not reference the step API).</summary>
    private static Dictionary<string, MethodInfo> StepMethods(Assembly assembly)
    {
        var methods = new Dictionary<string, MethodInfo>(StringComparer.Ordinal);
        foreach (var type in assembly.GetExportedTypes().Where(t => t.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "PluginHost.Station.Steps.SequenceAttribute")))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                if (method.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == "PluginHost.Station.Steps.StepAttribute") is { } step
                    && step.ConstructorArguments[0].Value is string name)
                {
                    Assert.True(methods.TryAdd(name, method), $"[Step(\"{name}\")] is claimed by {methods.GetValueOrDefault(name)?.Name} and {method.Name}");
                }
            }
        }

        return methods;
    }

    /// <summary>As the worker loads a package: collectible, the step API and the contracts shared with the loader.</summary>
    private sealed class PackageContext(string folder) : AssemblyLoadContext("sequence-package", isCollectible: true)
    {
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (Shared.Contains(assemblyName.Name))
            {
                return null;
            }

            var path = Path.Combine(folder, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
