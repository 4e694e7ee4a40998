namespace PluginHost.Station.Worker.Sequences;

/// <summary>
/// A step's or a sequence's outcome, ordered by severity (OpenTAP's rule): a parent's verdict is
/// the worst of its children's, and a skipped step does not lower a pass.
/// </summary>
internal enum Outcome
{
    Skipped = 0,
    Pass = 1,
    Fail = 2,
    Error = 3,
}

internal static class Outcomes
{
    public static Outcome Worst(Outcome a, Outcome b) => a >= b ? a : b;

    public static string Name(Outcome outcome) => outcome switch
    {
        Outcome.Pass => "PASS",
        Outcome.Fail => "FAIL",
        Outcome.Error => "ERROR",
        _ => "SKIPPED",
    };
}
