namespace PluginHost.Contracts.Equipment;

/// <summary>
/// (since 1.6) The codes every driver uses for the failures all instruments share, each with its
/// usual remedy. A driver adds its own for what only its protocol has (<c>MODBUS_EXCEPTION_02</c>,
/// <c>SCPI_ERROR -113</c>), with a remedy of its own.
/// </summary>
public static class EquipmentCodes
{
    /// <summary>No answer, or no connection, within the endpoint's timeout.</summary>
    public const string Timeout = "EQUIPMENT_TIMEOUT";

    /// <summary>Nothing accepts connections at the address and port.</summary>
    public const string Refused = "EQUIPMENT_REFUSED";

    /// <summary>The instrument closed the connection, or it broke, during a command.</summary>
    public const string Disconnected = "EQUIPMENT_DISCONNECTED";

    /// <summary>A command before a connection (a driver used wrongly).</summary>
    public const string NotConnected = "EQUIPMENT_NOT_CONNECTED";

    /// <summary>An answer the driver cannot read: not of the protocol, or not the type asked for (a number).</summary>
    public const string BadReply = "EQUIPMENT_BAD_REPLY";

    /// <summary>A command the driver cannot send as written (its syntax is the driver's, docs/drivers.md).</summary>
    public const string BadCommand = "EQUIPMENT_BAD_COMMAND";

    /// <summary>Anything else an instrument reports.</summary>
    public const string Error = "EQUIPMENT_ERROR";

    /// <summary>The usual remedy for <paramref name="code"/>; for a code this class does not define, where to look.</summary>
    public static string RemedyFor(string code) => code switch
    {
        Timeout => "Check that the instrument is powered, cabled and reachable from this machine (ping its address), that the binding's address and port are its own, and that the command is one it answers; a slow instrument needs a longer options.timeout.",
        Refused => "Nothing listens at that address and port: check the binding's address and port, and that the instrument's LAN interface (or the simulator) is switched on.",
        Disconnected => "The instrument closed the connection: check its cable and its own display for an error; the next command connects again.",
        NotConnected => "A driver was used before ConnectAsync: a bug in the sequence's C# step or in the driver.",
        BadReply => "The instrument's answer is not what the command should give: check the command against its manual (a query that returns text where a number was expected).",
        BadCommand => "Write the command in the driver's syntax (docs/drivers.md).",
        _ => "See the instrument's manual for this error, and docs/drivers.md for the driver's codes.",
    };
}
