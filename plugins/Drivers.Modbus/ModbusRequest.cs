using System.Buffers.Binary;
using System.Globalization;
using PluginHost.Contracts.Equipment;

namespace PluginHost.Drivers.Modbus;

/// <summary>
/// One Modbus request, from the driver's text commands (docs/drivers.md):
/// <c>read coils|discrete|holding|input ADDRESS COUNT</c>, <c>write coil ADDRESS on|off</c>,
/// <c>write register ADDRESS VALUE</c>, <c>write coils ADDRESS 1,0,1</c>, <c>write registers ADDRESS 7,8,9</c>.
/// Addresses are the protocol's, from 0.
/// </summary>
internal sealed record ModbusRequest(byte Function, ushort Address, ushort Count, byte[] Data)
{
    public const byte ReadCoils = 0x01, ReadDiscreteInputs = 0x02, ReadHoldingRegisters = 0x03, ReadInputRegisters = 0x04;
    public const byte WriteSingleCoil = 0x05, WriteSingleRegister = 0x06, WriteMultipleCoils = 0x0F, WriteMultipleRegisters = 0x10;

    public bool IsRead => Function <= ReadInputRegisters;

    public bool IsBits => Function is ReadCoils or ReadDiscreteInputs;

    public static ModbusRequest Parse(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words is ["read", var table, var address, var count])
        {
            var function = table switch
            {
                "coils" => ReadCoils,
                "discrete" => ReadDiscreteInputs,
                "holding" => ReadHoldingRegisters,
                "input" => ReadInputRegisters,
                _ => throw Bad(command, $"\"{table}\" is not a table (coils, discrete, holding, input)"),
            };
            var n = Number(count, command, 1, function <= ReadDiscreteInputs ? 2000 : 125);
            var start = Number(address, command, 0, 65535);
            return start + n > 65536 ? throw Bad(command, "the range ends past address 65535") : new ModbusRequest(function, (ushort)start, (ushort)n, []);
        }

        if (words is ["write", "coil", var coilAddress, var state])
        {
            var on = state switch
            {
                "on" or "1" => true,
                "off" or "0" => false,
                _ => throw Bad(command, $"\"{state}\" is on or off"),
            };
            return new ModbusRequest(WriteSingleCoil, (ushort)Number(coilAddress, command, 0, 65535), 1, [on ? (byte)0xFF : (byte)0x00, 0x00]);
        }

        if (words is ["write", "register", var registerAddress, var value])
        {
            var data = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)Number(value, command, 0, 65535));
            return new ModbusRequest(WriteSingleRegister, (ushort)Number(registerAddress, command, 0, 65535), 1, data);
        }

        if (words is ["write", "coils", var coilsAddress, var bits])
        {
            var values = bits.Split(',').Select(b => b switch { "1" or "on" => true, "0" or "off" => false, _ => throw Bad(command, $"\"{b}\" is 1 or 0") }).ToArray();
            if (values.Length is 0 or > 1968)
            {
                throw Bad(command, "1 to 1968 coils at once");
            }

            var packed = new byte[(values.Length + 7) / 8];
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i])
                {
                    packed[i / 8] |= (byte)(1 << (i % 8));
                }
            }

            return new ModbusRequest(WriteMultipleCoils, (ushort)Number(coilsAddress, command, 0, 65535), (ushort)values.Length, packed);
        }

        if (words is ["write", "registers", var registersAddress, var list])
        {
            var values = list.Split(',').Select(v => Number(v, command, 0, 65535)).ToArray();
            if (values.Length is 0 or > 123)
            {
                throw Bad(command, "1 to 123 registers at once");
            }

            var data = new byte[values.Length * 2];
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(i * 2), (ushort)values[i]);
            }

            return new ModbusRequest(WriteMultipleRegisters, (ushort)Number(registersAddress, command, 0, 65535), (ushort)values.Length, data);
        }

        throw Bad(command, "commands: read coils|discrete|holding|input ADDRESS COUNT; write coil ADDRESS on|off; write register ADDRESS VALUE; write coils ADDRESS 1,0,...; write registers ADDRESS V,V,...");
    }

    /// <summary>The PDU: function code and its fields, big-endian.</summary>
    public byte[] Pdu()
    {
        switch (Function)
        {
            case WriteSingleCoil or WriteSingleRegister:
                return [Function, (byte)(Address >> 8), (byte)Address, Data[0], Data[1]];
            case WriteMultipleCoils or WriteMultipleRegisters:
                return [Function, (byte)(Address >> 8), (byte)Address, (byte)(Count >> 8), (byte)Count, (byte)Data.Length, .. Data];
            default:
                return [Function, (byte)(Address >> 8), (byte)Address, (byte)(Count >> 8), (byte)Count];
        }
    }

    private static int Number(string text, string command, int min, int max) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw Bad(command, $"\"{text}\" is a whole number from {min} to {max}");

    private static EquipmentException Bad(string command, string why) => new("MODBUS_BAD_COMMAND", $"\"{command}\": {why}",
        "Write it as docs/drivers.md shows, e.g. \"read holding 100 2\" or \"write register 7 1234\".");
}
