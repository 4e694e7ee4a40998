using PluginHost.Contracts.Equipment;
using PluginHost.Station.Worker;
using PluginHost.Station.Worker.Drivers;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>What the worker promises every driver, whatever the driver does itself.</summary>
public sealed class InstrumentTests
{
    private static readonly HardwareBinding Binding = new("dmm", "counting", "127.0.0.1", 0, new Dictionary<string, string>());

    [Fact]
    public async Task Commands_to_one_instrument_never_overlap_even_when_a_step_sends_them_from_many_tasks()
    {
        var driver = new OverlapCountingDriver();
        await using var instrument = new Instrument(Binding, driver, _ => { });

        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => instrument.QueryAsync($"Q{i}?", CancellationToken.None).AsTask()));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => instrument.WriteAsync($"W{i}", CancellationToken.None).AsTask()));

        Assert.Equal(24, driver.Commands);
        Assert.Equal(1, driver.MostAtOnce);
        Assert.Equal(1, driver.Connects); // connected at the first command, once
    }

    [Fact]
    public async Task A_drivers_bug_is_a_coded_equipment_error_and_not_the_end_of_the_worker()
    {
        await using var instrument = new Instrument(Binding, new OverlapCountingDriver { Throws = true }, _ => { });

        var error = await Assert.ThrowsAsync<EquipmentException>(() => instrument.QueryAsync("X?", CancellationToken.None).AsTask());

        Assert.Equal("DRIVER_FAILED", error.Code);
        Assert.Contains("InvalidOperationException", error.Message, StringComparison.Ordinal);
        Assert.Contains("bug in the counting driver", error.Remedy, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+1.2345E+00", 1.2345)]
    [InlineData(" 3300 ", 3300)]
    public async Task A_numeric_query_reads_one_number(string reply, double expected)
    {
        await using var instrument = new Instrument(Binding, new OverlapCountingDriver { Reply = reply }, _ => { });

        Assert.Equal(expected, await instrument.QueryNumberAsync("MEAS?", CancellationToken.None));
    }

    [Theory]
    [InlineData("OVLD")]
    [InlineData("1,2")]
    [InlineData("")]
    [InlineData("NaN")]
    public async Task A_numeric_query_answered_otherwise_is_a_bad_reply_with_what_came(string reply)
    {
        await using var instrument = new Instrument(Binding, new OverlapCountingDriver { Reply = reply }, _ => { });

        var error = await Assert.ThrowsAsync<EquipmentException>(() => instrument.QueryNumberAsync("MEAS?", CancellationToken.None).AsTask());

        Assert.Equal(EquipmentCodes.BadReply, error.Code);
        Assert.Contains("\"MEAS?\" answered", error.Message, StringComparison.Ordinal);
        Assert.Equal(EquipmentCodes.RemedyFor(EquipmentCodes.BadReply), error.Remedy);
    }

    [Fact]
    public async Task Registers_read_as_numbers()
    {
        await using var instrument = new Instrument(Binding, new OverlapCountingDriver { Reply = "7,8,65535" }, _ => { });

        Assert.Equal([7, 8, 65535], await instrument.QueryNumbersAsync("read holding 20 3", CancellationToken.None));
    }

    /// <summary>A driver that takes its time over each command and counts how many it was given at once.</summary>
    private sealed class OverlapCountingDriver : IEquipmentDriver
    {
        private int _now;
        private int _most;
        private int _commands;
        private int _connects;

        public bool Throws { get; init; }

        public string Reply { get; init; } = "1";

        public int MostAtOnce => Volatile.Read(ref _most);

        public int Commands => Volatile.Read(ref _commands);

        public int Connects => Volatile.Read(ref _connects);

        public ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _connects);
            return ValueTask.CompletedTask;
        }

        public ValueTask DisconnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken) => ValueTask.FromResult(new EquipmentIdentity("t", "t", "t", "t"));

        public async ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken)
        {
            await CommandAsync();
            return new EquipmentReply(Reply, System.Text.Encoding.ASCII.GetBytes(Reply));
        }

        public async ValueTask WriteAsync(string command, CancellationToken cancellationToken) => await CommandAsync();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private async Task CommandAsync()
        {
            if (Throws)
            {
                throw new InvalidOperationException("a driver bug");
            }

            var now = Interlocked.Increment(ref _now);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }

            await Task.Delay(5); // long enough for any overlap to show
            Interlocked.Increment(ref _commands);
            Interlocked.Decrement(ref _now);
        }
    }
}
