namespace PluginHost.Plugins;

/// <summary>
/// What to do about an SCPI error, by its class (SCPI-99, chapter 21: command, execution,
/// device-specific and query errors). One source, compiled into each driver that speaks SCPI.
/// </summary>
internal static class ScpiErrorClasses
{
    public static string RemedyFor(int number) => number switch
    {
        <= -100 and > -200 => "The instrument did not understand the command: check its spelling, syntax and parameters against the instrument's programming manual.",
        <= -200 and > -300 => "The command was understood but could not be carried out now (a value out of range, the wrong mode, a setting in conflict): check its parameters and the instrument's state.",
        <= -300 and > -400 => "The instrument reports a fault of its own: see its manual and its display; it may need *RST, a power cycle or service.",
        <= -400 and > -500 => "A query's answer was lost (sent while another was unread, or never read): send one query at a time and read each answer.",
        _ => "See the instrument's programming manual for this error number.",
    };
}
