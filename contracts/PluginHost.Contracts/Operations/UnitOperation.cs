namespace PluginHost.Contracts.Operations;

/// <summary>An extra operation a unit kind offers, with the shape of its JSON arguments.</summary>
public sealed record UnitOperation(string Name, string Description)
{
    public IReadOnlyList<OperationParameter> Parameters { get; init; } = [];

    /// <summary>True when the operation may take long (the CLI shows progress for it).</summary>
    public bool LongRunning { get; init; }
}

/// <summary>One named argument of an operation.</summary>
public sealed record OperationParameter(string Name, OperationParameterType Type, string Description, bool Required = false);

public enum OperationParameterType
{
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}
