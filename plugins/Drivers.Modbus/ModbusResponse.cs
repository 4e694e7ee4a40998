using System.Buffers.Binary;
using System.Globalization;
using PluginHost.Contracts.Equipment;

namespace PluginHost.Drivers.Modbus;

/// <summary>
/// Decodes one Modbus TCP response (MBAP header + PDU) to a request. Whatever the bytes, the answer
/// is a value or an <see cref="EquipmentException"/> with a code — <c>MODBUS_EXCEPTION_0N</c> for
/// the device's exception responses, <c>MODBUS_BAD_FRAME</c> for anything malformed — never
/// another exception (fuzzed).
/// </summary>
internal static class ModbusResponse
{
    public const int HeaderLength = 7;

    /// <summary>An ADU is at most 260 bytes: the length field (unit id + PDU) is at most 254.</summary>
    public const int MaxLengthField = 254;

    /// <summary>The MBAP header's transaction id and length field, checked; the length says how many bytes follow the header.</summary>
    public static (ushort Transaction, int Following) ReadHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderLength)
        {
            throw Frame($"a header of {header.Length} bytes (7 expected)");
        }

        var protocol = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        var length = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        if (protocol != 0)
        {
            throw Frame($"protocol id {protocol} (Modbus is 0)");
        }

        if (length is < 2 or > MaxLengthField)
        {
            throw Frame($"a length field of {length} (2 to {MaxLengthField})");
        }

        return (BinaryPrimitives.ReadUInt16BigEndian(header), length - 1);
    }

    /// <summary>The reply as text: the values read, comma-separated (registers as numbers, bits as 0/1), or "ok" for a write.</summary>
    public static string Decode(ReadOnlySpan<byte> adu, ModbusRequest request, byte unit)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (_, following) = ReadHeader(adu);
        if (adu.Length != HeaderLength + following)
        {
            throw Frame($"{adu.Length} bytes where the header promised {HeaderLength + following}");
        }

        if (adu[6] != unit)
        {
            throw Frame($"an answer from unit {adu[6]} to a request to unit {unit}");
        }

        var pdu = adu[HeaderLength..];
        var function = pdu[0];
        if (function == (request.Function | 0x80))
        {
            if (pdu.Length != 2)
            {
                throw Frame("an exception response that is not 2 bytes");
            }

            throw Exception(pdu[1], request);
        }

        if (function != request.Function)
        {
            throw Frame($"function 0x{function:X2} in answer to 0x{request.Function:X2}");
        }

        return request.IsRead ? Values(pdu, request) : Echo(pdu, request);
    }

    private static string Values(ReadOnlySpan<byte> pdu, ModbusRequest request)
    {
        if (pdu.Length < 2 || pdu[1] != pdu.Length - 2)
        {
            throw Frame("a byte count that does not match the data");
        }

        var data = pdu[2..];
        if (request.IsBits)
        {
            if (data.Length != (request.Count + 7) / 8)
            {
                throw Frame($"{data.Length} bytes of bits for {request.Count} bits");
            }

            var bits = new string[request.Count];
            for (var i = 0; i < request.Count; i++)
            {
                bits[i] = (data[i / 8] >> (i % 8) & 1) == 1 ? "1" : "0";
            }

            return string.Join(",", bits);
        }

        if (data.Length != request.Count * 2)
        {
            throw Frame($"{data.Length} bytes of registers for {request.Count} registers");
        }

        var values = new string[request.Count];
        for (var i = 0; i < request.Count; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt16BigEndian(data[(i * 2)..]).ToString(CultureInfo.InvariantCulture);
        }

        return string.Join(",", values);
    }

    private static string Echo(ReadOnlySpan<byte> pdu, ModbusRequest request)
    {
        var sent = request.Pdu();
        var echoed = request.Function is ModbusRequest.WriteSingleCoil or ModbusRequest.WriteSingleRegister ? sent : sent[..5];
        return pdu.SequenceEqual(echoed) ? "ok" : throw Frame("a write's answer that does not echo it");
    }

    private static EquipmentException Exception(byte code, ModbusRequest request)
    {
        var (meaning, remedy) = code switch
        {
            0x01 => ("illegal function: the device does not support this function code", "Use a function the device supports (its manual lists them)."),
            0x02 => ($"illegal data address: {request.Address}..{request.Address + request.Count - 1} is not in the device's map", "Check the address against the device's register map (addresses here start at 0)."),
            0x03 => ("illegal data value", "Check the value or the count against the device's limits."),
            0x04 => ("server device failure", "The device failed while acting; check it, then try again."),
            0x05 => ("acknowledge: the device accepted a long operation", "Poll for its completion."),
            0x06 => ("server device busy", "Try again later."),
            0x0A => ("gateway path unavailable", "Check the gateway's configuration for this unit id."),
            0x0B => ("gateway target device failed to respond", "Check the device behind the gateway and its unit id."),
            _ => ($"exception code {code}", "See the device's manual for this exception code."),
        };
        return new EquipmentException($"MODBUS_EXCEPTION_{code:X2}", $"Modbus exception {code:X2}, {meaning}", remedy);
    }

    private static EquipmentException Frame(string what) => new("MODBUS_BAD_FRAME", $"malformed Modbus response: {what}",
        "Check that the address and port are a Modbus TCP device's (not a serial gateway in RTU-over-TCP mode, nor another service); the next command reconnects.");
}
