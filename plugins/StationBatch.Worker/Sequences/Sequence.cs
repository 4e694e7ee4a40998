namespace PluginHost.Station.Worker.Sequences;

/// <summary>A validated sequence package: its steps in their groups, its parameters and the hardware slots it needs.</summary>
/// <param name="Assembly">The package's own assembly of C# steps, when it has one (a full path).</param>
internal sealed record Sequence(
    string Name,
    string Version,
    string Folder,
    string? Assembly,
    IReadOnlyList<SequenceParameter> Parameters,
    IReadOnlyList<string> Slots,
    IReadOnlyList<Step> Setup,
    IReadOnlyList<Step> Main,
    IReadOnlyList<Step> Teardown);

internal enum ParameterType
{
    String,
    Number,
    Integer,
    Boolean,
}

internal sealed record SequenceParameter(string Name, ParameterType Type, string? Default, double? Min, double? Max, string? Units);

internal enum StepAction
{
    /// <summary>A command that does not answer.</summary>
    Write,

    /// <summary>A command that answers; the answer is logged, not judged.</summary>
    Query,

    /// <summary>A command that answers with a measurement, judged by a validator.</summary>
    Measure,

    /// <summary>A pause (a settling time).</summary>
    Wait,

    /// <summary>A <c>[Step]</c> method of the package's assembly.</summary>
    Code,
}

internal enum FailAction
{
    Continue,
    Stop,
}

/// <param name="Command">May name parameters as <c>${name}</c>; for a code step, the <c>[Step]</c> name.</param>
/// <param name="Location">FILE:LINE:COLUMN of the step, for problems found when the package's code is loaded.</param>
/// <param name="Repeat">How many more times a failing step runs before its failure stands (OpenHTF's REPEAT with a limit).</param>
/// <param name="OnFail">What a failure does to the rest of the group: go on, or stop (teardown still runs).</param>
internal sealed record Step(
    string Name,
    string Group,
    int Index,
    StepAction Action,
    string? Slot,
    string? Command,
    TimeSpan Duration,
    Measurement? Measurement,
    int Repeat,
    FailAction OnFail,
    TimeSpan Timeout,
    string Location);

internal sealed record Measurement(string Name, string? Units, Validator Validator);
