namespace PluginHost.Contracts.Equipment;

/// <summary>
/// An instrument that did not connect, did not answer, or answered with an error. <see cref="Code"/>
/// is stable (<see cref="EquipmentCodes"/>, <c>MODBUS_EXCEPTION_02</c>, <c>SCPI_ERROR -113</c>) and
/// <see cref="Remedy"/> says what to do; both reach the CLI, the API and the dashboard unchanged.
/// </summary>
public sealed class EquipmentException : Exception
{
    public EquipmentException()
        : this(EquipmentCodes.Error, "The instrument reported an error.")
    {
    }

    public EquipmentException(string message)
        : this(EquipmentCodes.Error, message)
    {
    }

    public EquipmentException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = EquipmentCodes.Error;
        Remedy = EquipmentCodes.RemedyFor(Code);
    }

    /// <summary>A failure with a stable code; the remedy is the code's usual one (<see cref="EquipmentCodes.RemedyFor"/>).</summary>
    public EquipmentException(string code, string message)
        : this(code, message, EquipmentCodes.RemedyFor(code))
    {
    }

    /// <summary>(since 1.6) A failure with a stable code and what to do about it.</summary>
    public EquipmentException(string code, string message, string remedy)
        : base(message)
    {
        Code = code;
        Remedy = remedy;
    }

    public string Code { get; }

    /// <summary>(since 1.6) What the operator can do about it.</summary>
    public string Remedy { get; }
}
