using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Testing;
using PluginHost.Drivers.Modbus;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>The modbus-tcp driver against Debian's pymodbus 3.0 server (a peer nobody here wrote), and against deliberately broken peers.</summary>
public sealed class ModbusDriverTests : IAsyncLifetime
{
    private Process? _server;
    private int _port;

    public async Task InitializeAsync()
    {
        Prerequisite.PythonWithModule("pymodbus", "python3-pymodbus");
        _port = StationPaths.FreePort();
        _server = await StartServerAsync(_port);
    }

    public Task DisposeAsync()
    {
        Stop(_server);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Reads_and_writes_every_table_with_function_codes_01_to_06_15_and_16()
    {
        await using var driver = await ConnectAsync(_port);

        Assert.Equal("0,1,2,3,4", await QueryAsync(driver, "read holding 0 5"));                // 03
        Assert.Equal("1000,1001,1002", await QueryAsync(driver, "read input 0 3"));             // 04
        Assert.Equal("0,1,1,0,1,1,0,1,1,0", await QueryAsync(driver, "read discrete 0 10"));    // 02, bits across two bytes
        await driver.WriteAsync("write register 10 1234", CancellationToken.None);              // 06
        await driver.WriteAsync("write registers 20 7,8,65535", CancellationToken.None);       // 16
        await driver.WriteAsync("write coil 3 on", CancellationToken.None);                     // 05
        await driver.WriteAsync("write coils 8 1,0,1", CancellationToken.None);                 // 15

        Assert.Equal("1234", await QueryAsync(driver, "read holding 10 1"));
        Assert.Equal("7,8,65535", await QueryAsync(driver, "read holding 20 3"));
        Assert.Equal("0,0,0,1,0,0,0,0,1,0,1", await QueryAsync(driver, "read coils 0 11"));   // 01
    }

    [Fact]
    public async Task An_exception_response_is_its_coded_error_with_the_address_and_a_remedy()
    {
        await using var driver = await ConnectAsync(_port);

        var error = await Assert.ThrowsAsync<EquipmentException>(() => QueryAsync(driver, "read holding 500 2"));

        Assert.Equal("MODBUS_EXCEPTION_02", error.Code);
        Assert.Contains("500..501 is not in the device's map", error.Message, StringComparison.Ordinal);
        Assert.Contains("register map", error.Remedy, StringComparison.Ordinal);
        Assert.Equal("0,1", await QueryAsync(driver, "read holding 0 2")); // the connection goes on
    }

    [Fact]
    public async Task A_unit_that_does_not_answer_is_a_coded_timeout()
    {
        await using var driver = await ConnectAsync(_port, unit: "7", timeoutMs: 500);

        var error = await Assert.ThrowsAsync<EquipmentException>(() => QueryAsync(driver, "read holding 0 1"));

        Assert.Equal("EQUIPMENT_TIMEOUT", error.Code);
    }

    [Fact]
    public async Task After_the_peer_drops_the_next_request_after_it_is_back_reconnects()
    {
        await using var driver = await ConnectAsync(_port);
        Assert.Equal("0", await QueryAsync(driver, "read holding 0 1"));

        Stop(_server);
        var dropped = await Assert.ThrowsAsync<EquipmentException>(() => QueryAsync(driver, "read holding 0 1"));
        Assert.Contains(dropped.Code, new[] { "EQUIPMENT_DISCONNECTED", "EQUIPMENT_REFUSED" });
        _server = await StartServerAsync(_port);

        Assert.Equal("0,1", await QueryAsync(driver, "read holding 0 2"));
    }

    [Fact]
    public async Task Answers_split_across_reads_and_a_stale_answer_first_are_read_right()
    {
        // A peer that answers byte by byte, after first sending the answer to an older transaction.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = new byte[12];
            await stream.ReadExactlyAsync(request);
            var transaction = BinaryPrimitives.ReadUInt16BigEndian(request);
            byte[] Answer(ushort t, ushort value) => [(byte)(t >> 8), (byte)t, 0, 0, 0, 5, 1, 3, 2, (byte)(value >> 8), (byte)value];
            foreach (var b in Answer((ushort)(transaction - 1), 999).Concat(Answer(transaction, 4242)))
            {
                await stream.WriteAsync(new[] { b });
                await stream.FlushAsync();
            }

            await Task.Delay(200);
        });

        await using var driver = await ConnectAsync(((IPEndPoint)listener.LocalEndpoint).Port);
        Assert.Equal("4242", await QueryAsync(driver, "read holding 0 1"));
        await serve;
    }

    [Theory]
    [InlineData("read holding 0 0", "MODBUS_BAD_COMMAND")]
    [InlineData("read holding 0 126", "MODBUS_BAD_COMMAND")]
    [InlineData("read holding 65535 2", "MODBUS_BAD_COMMAND")]
    [InlineData("read bobbins 0 1", "MODBUS_BAD_COMMAND")]
    [InlineData("write coil 1 maybe", "MODBUS_BAD_COMMAND")]
    [InlineData("write registers 1 1,x", "MODBUS_BAD_COMMAND")]
    [InlineData("MEAS:VOLT?", "MODBUS_BAD_COMMAND")]
    public void A_command_the_driver_cannot_send_is_refused_before_anything_is_sent(string command, string code)
    {
        Assert.Equal(code, Assert.Throws<EquipmentException>(() => ModbusRequest.Parse(command)).Code);
    }

    /// <summary>Every cut of a valid answer and 20,000 corrupted ones: a value or a coded error, never another exception.</summary>
    [Fact]
    public void The_decoder_fed_malformed_and_truncated_frames_only_ever_answers_with_a_coded_error()
    {
        var request = ModbusRequest.Parse("read holding 0 3");
        byte[] valid = [0, 9, 0, 0, 0, 9, 1, 3, 6, 0, 1, 0, 2, 0, 3];
        Assert.Equal("1,2,3", ModbusResponse.Decode(valid, request, 1));
        var random = new Random(502);
        var frames = Enumerable.Range(0, valid.Length).Select(n => valid[..n]).ToList();
        for (var i = 0; i < 20_000; i++)
        {
            var frame = (byte[])valid.Clone();
            frame[random.Next(frame.Length)] = (byte)random.Next(256);
            if (i % 3 == 0)
            {
                frame = frame[..random.Next(frame.Length + 1)];
            }

            frames.Add(frame);
        }

        foreach (var frame in frames)
        {
            try
            {
                ModbusResponse.Decode(frame, request, 1);
            }
            catch (EquipmentException ex)
            {
                Assert.Matches("^MODBUS_(BAD_FRAME|EXCEPTION_[0-9A-F]{2})$", ex.Code);
            }
        }

        Assert.Equal("MODBUS_EXCEPTION_02", Assert.Throws<EquipmentException>(() => ModbusResponse.Decode([0, 9, 0, 0, 0, 3, 1, 0x83, 2], request, 1)).Code);
    }

    private static async Task<string> QueryAsync(IEquipmentDriver driver, string command) => (await driver.QueryAsync(command, CancellationToken.None)).Text;

    private static async Task<IEquipmentDriver> ConnectAsync(int port, string unit = "1", int timeoutMs = 2000)
    {
        var driver = new ModbusTcpDriver();
        await driver.ConnectAsync(new EquipmentEndpoint("127.0.0.1", port) { Timeout = TimeSpan.FromMilliseconds(timeoutMs), Options = new Dictionary<string, string> { ["unit"] = unit } }, CancellationToken.None);
        return driver;
    }

    internal static async Task<Process> StartServerAsync(int port)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Conformance", "modbus_server.py"));
        info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        var server = Process.Start(info)!;
        server.ErrorDataReceived += (_, _) => { };
        server.BeginErrorReadLine();
        var ready = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(ready == "ready", "the pymodbus server did not start");
        return server;
    }

    internal static void Stop(Process? server)
    {
        if (server is { HasExited: false })
        {
            server.Kill();
            server.WaitForExit();
        }

        server?.Dispose();
    }
}
