using PluginHost.Contracts.Equipment;
using PluginHost.Drivers.Scpi;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>The scpi-tcp driver against a fake instrument on loopback TCP (FakeScpiInstrument).</summary>
public sealed class ScpiDriverTests : IAsyncLifetime
{
    private readonly FakeScpiInstrument _instrument = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instrument.DisposeAsync();

    [Fact]
    public async Task On_connect_it_clears_the_error_queue_and_identifies_the_instrument()
    {
        await using var driver = await ConnectAsync();

        var identity = await driver.IdentifyAsync(CancellationToken.None);

        Assert.Equal(new EquipmentIdentity("FAKE", "SCPI-1", "SN0001", "1.0"), identity);
        Assert.Equal(["*CLS", "*IDN?"], _instrument.Received);
    }

    [Fact]
    public async Task Queries_and_writes_are_answered_and_the_error_queue_is_read_after_each()
    {
        await using var driver = await ConnectAsync();

        await driver.WriteAsync("VOLT 12.5", CancellationToken.None);
        var volts = await driver.QueryAsync("VOLT?", CancellationToken.None);
        var opc = await driver.QueryAsync("*OPC?", CancellationToken.None);

        Assert.Equal(("+1.25000000E+01", "1"), (volts.Text, opc.Text));
        Assert.Equal(["*CLS", "*IDN?", "VOLT 12.5", "SYST:ERR?", "VOLT?", "SYST:ERR?", "*OPC?", "SYST:ERR?"], _instrument.Received);
    }

    [Theory]
    [InlineData("BOGUS", "SCPI_ERROR -113", "Undefined header")]
    [InlineData("VOLT 99", "SCPI_ERROR -222", "Data out of range")]
    public async Task What_the_instrument_puts_in_its_error_queue_is_the_commands_coded_error(string command, string code, string text)
    {
        await using var driver = await ConnectAsync();

        var error = await Assert.ThrowsAsync<EquipmentException>(async () => await driver.WriteAsync(command, CancellationToken.None));

        Assert.Equal(code, error.Code);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
        Assert.Equal("+1.23450000E+00", (await driver.QueryAsync("MEAS:VOLT?", CancellationToken.None)).Text); // drained: the next command is clean
    }

    [Fact]
    public async Task A_definite_length_binary_block_is_read_by_its_length_newlines_and_all()
    {
        await using var driver = await ConnectAsync();

        var block = await driver.QueryAsync("DATA?", CancellationToken.None);
        var after = await driver.QueryAsync("*OPC?", CancellationToken.None);

        Assert.Equal(FakeScpiInstrument.Block, block.Raw.ToArray());
        Assert.Equal("1", after.Text); // in step after the block's own terminator
    }

    [Fact]
    public async Task A_query_past_its_timeout_is_EQUIPMENT_TIMEOUT_and_its_late_answer_is_not_taken_for_the_next()
    {
        await using var driver = await ConnectAsync(timeoutMs: 500);

        var error = await Assert.ThrowsAsync<EquipmentException>(async () => await driver.QueryAsync("SLOW?", CancellationToken.None));
        var next = await driver.QueryAsync("MEAS:VOLT?", CancellationToken.None);

        Assert.Equal("EQUIPMENT_TIMEOUT", error.Code);
        Assert.Equal("+1.23450000E+00", next.Text); // not SLOW?'s "+9.99…"
    }

    [Fact]
    public async Task An_instrument_that_drops_the_connection_is_reconnected_at_the_next_command()
    {
        await using var driver = await ConnectAsync();

        var dropped = await Assert.ThrowsAsync<EquipmentException>(async () => await driver.QueryAsync("DROP", CancellationToken.None));
        var again = await driver.QueryAsync("*OPC?", CancellationToken.None);

        Assert.Equal("EQUIPMENT_DISCONNECTED", dropped.Code);
        Assert.Equal("1", again.Text);
        Assert.Equal(2, _instrument.Received.Count(m => m == "*IDN?")); // connected twice
    }

    [Fact]
    public async Task Commands_from_several_callers_reach_the_instrument_one_at_a_time()
    {
        await using var driver = await ConnectAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => driver.QueryAsync(i % 2 == 0 ? "MEAS:VOLT?" : "*OPC?", CancellationToken.None).AsTask()));

        Assert.Equal(Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? "+1.23450000E+00" : "1"), answers.Select(a => a.Text));
    }

    [Fact]
    public async Task A_port_nothing_listens_on_is_EQUIPMENT_REFUSED()
    {
        var driver = new ScpiTcpDriver();
        var closed = StationPaths.FreePort();

        var error = await Assert.ThrowsAsync<EquipmentException>(async () => await driver.ConnectAsync(new EquipmentEndpoint("127.0.0.1", closed), CancellationToken.None));

        Assert.Equal("EQUIPMENT_REFUSED", error.Code);
    }

    private async Task<ScpiTcpDriver> ConnectAsync(int timeoutMs = 2000)
    {
        var driver = new ScpiTcpDriver();
        await driver.ConnectAsync(new EquipmentEndpoint("127.0.0.1", _instrument.Port) { Timeout = TimeSpan.FromMilliseconds(timeoutMs) }, CancellationToken.None);
        return driver;
    }
}
