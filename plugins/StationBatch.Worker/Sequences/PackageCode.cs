using System.Reflection;
using McMaster.NETCore.Plugins;
using PluginHost.Contracts.Equipment;
using PluginHost.Station.Steps;

namespace PluginHost.Station.Worker.Sequences;

/// <summary>
/// A package's own C# steps: its assembly loaded for one execution with McMaster.NETCore.Plugins
/// into a collectible load context (the step API and the contracts shared, everything else private),
/// its <c>[Sequence]</c> classes instantiated, their <c>[Step]</c> methods found by name — the
/// MEF-style part of a package. Unloaded when the execution ends, so an edited and rebuilt package
/// is taken up by the next START_SEQUENCE.
/// </summary>
internal sealed class PackageCode : IAsyncDisposable
{
    private readonly PluginLoader? _loader;
    private readonly List<object> _instances = [];
    private readonly Dictionary<string, (object Target, MethodInfo Method)> _steps = new(StringComparer.Ordinal);

    private PackageCode(PluginLoader? loader) => _loader = loader;

    public static PackageCode None { get; } = new(null);

    /// <returns>The package's code, or every problem (a step name that no method has, a method of the wrong shape), each at its step.</returns>
    public static (PackageCode? Code, IReadOnlyList<string> Problems) Load(Sequence sequence)
    {
        var codeSteps = sequence.Setup.Concat(sequence.Main).Concat(sequence.Teardown).Where(s => s.Action == StepAction.Code).ToList();
        if (sequence.Assembly is null || codeSteps.Count == 0)
        {
            return (None, []);
        }

        // Read into memory, as the drivers are: loaded from its path, a rebuilt assembly came back as the
        // old code while the last run's context was not yet collected (the runtime keeps an image per path).
        var loader = PluginLoader.CreateFromAssemblyFile(sequence.Assembly, isUnloadable: true,
            sharedTypes: [typeof(IStepContext), typeof(StepAttribute), typeof(IEquipmentDriver)], config => config.LoadInMemory = true);
        var code = new PackageCode(loader);
        var problems = new List<string>();
        try
        {
            foreach (var type in loader.LoadDefaultAssembly().GetExportedTypes().Where(t => t.GetCustomAttribute<SequenceAttribute>() is not null))
            {
                var instance = Activator.CreateInstance(type)
                    ?? throw new InvalidOperationException($"{type.FullName} could not be created");
                code._instances.Add(instance);
                foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (method.GetCustomAttribute<StepAttribute>() is { } step)
                    {
                        if (Shape(method) is { } wrong)
                        {
                            problems.Add($"{sequence.Assembly}: {type.FullName}.{method.Name} ([Step(\"{step.Name}\")]) {wrong}");
                        }
                        else if (!code._steps.TryAdd(step.Name, (instance, method)))
                        {
                            problems.Add($"{sequence.Assembly}: two methods are [Step(\"{step.Name}\")]");
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or TypeLoadException or ReflectionTypeLoadException or MissingMethodException or TargetInvocationException or InvalidOperationException)
        {
            problems.Add($"{sequence.Assembly}: the package's code failed to load: {ex.GetType().Name}: {(ex as TargetInvocationException)?.InnerException?.Message ?? ex.Message}");
        }

        foreach (var step in codeSteps.Where(s => !code._steps.ContainsKey(s.Command!)))
        {
            problems.Add($"{step.Location}: step \"{step.Name}\" runs [Step(\"{step.Command}\")], which no [Sequence] class of {Path.GetFileName(sequence.Assembly)} has"
                + (code._steps.Count == 0 ? "" : $" (it has {string.Join(", ", code._steps.Keys.Order(StringComparer.Ordinal))})"));
        }

        if (problems.Count > 0)
        {
            code.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return (null, problems);
        }

        return (code, []);
    }

    /// <summary>Runs a step's method; its exceptions are the caller's to classify.</summary>
    public async Task<StepVerdict> InvokeAsync(string step, IStepContext context)
    {
        var (target, method) = _steps[step];
        object? result;
        try
        {
            result = method.Invoke(target, [context]);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        switch (result)
        {
            case Task<StepVerdict> verdict:
                return await verdict.ConfigureAwait(false);
            case Task task:
                await task.ConfigureAwait(false);
                return StepVerdict.Pass;
            case StepVerdict verdict:
                return verdict;
            default:
                return StepVerdict.Pass;
        }
    }

    private static string? Shape(MethodInfo method)
    {
        var parameters = method.GetParameters();
        if (parameters.Length != 1 || parameters[0].ParameterType != typeof(IStepContext))
        {
            return "takes one IStepContext";
        }

        return method.ReturnType == typeof(void) || method.ReturnType == typeof(StepVerdict) || method.ReturnType == typeof(Task) || method.ReturnType == typeof(Task<StepVerdict>)
            ? null
            : "returns StepVerdict, Task<StepVerdict>, Task or nothing";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            switch (instance)
            {
                case IAsyncDisposable a:
                    await a.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable d:
                    d.Dispose();
                    break;
            }
        }

        _instances.Clear();
        _steps.Clear();
        _loader?.Dispose();
    }
}
