namespace PluginHost.Station.Steps;

/// <summary>Marks a class of a package's assembly whose <see cref="StepAttribute"/> methods are steps. It needs a public parameterless constructor; one instance serves one execution.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class SequenceAttribute : Attribute
{
}

/// <summary>
/// A step a package's <c>sequence.yaml</c> names with <c>code: { step: NAME }</c>. The method takes an
/// <see cref="IStepContext"/> and returns <see cref="StepVerdict"/>, <c>Task&lt;StepVerdict&gt;</c>,
/// <c>Task</c> or nothing (those pass unless they throw). An exception is the step's ERROR; an
/// <c>EquipmentException</c> keeps its code.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class StepAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>What a C# step decided (an exception is an ERROR).</summary>
public enum StepVerdict
{
    Pass,
    Fail,
    Skip,
}
