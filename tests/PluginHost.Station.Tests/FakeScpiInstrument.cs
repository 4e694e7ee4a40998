using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PluginHost.Station.Tests;

/// <summary>
/// A SCPI instrument on loopback TCP for the scpi-tcp driver's tests (no SCPI simulator is packaged
/// here): LF-terminated messages, an error queue (-113 for an unknown header, -222 out of range),
/// <c>*IDN?</c>, <c>*CLS</c>, <c>*RST</c>, <c>*OPC?</c>, <c>VOLT V</c> / <c>VOLT?</c>, <c>MEAS:VOLT?</c>,
/// <c>DATA?</c> (a definite-length block holding newlines), <c>SLOW?</c> (answers after 1.5 s) and
/// <c>DROP</c> (closes the connection).
/// </summary>
internal sealed class FakeScpiInstrument : IAsyncDisposable
{
    public static readonly byte[] Block = [.. Enumerable.Range(0, 300).Select(i => (byte)(i % 256))];
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private double _volts;

    public FakeScpiInstrument()
    {
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every message received, in order, for the tests to check what the driver sent.</summary>
    public List<string> Received { get; } = [];

    private int _connections;
    private int _open;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections open now (the driver has not closed them).</summary>
    public int Open => Volatile.Read(ref _open);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            Interlocked.Increment(ref _open);
            _ = Task.Run(async () =>
            {
                try
                {
                    await SessionAsync(client);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            });
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        var errors = new Queue<string>();
        using (client)
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            try
            {
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    lock (Received)
                    {
                        Received.Add(line);
                    }

                    var (header, argument) = line.Split(' ', 2) is [var h, var a] ? (h.ToUpperInvariant(), a) : (line.ToUpperInvariant(), null);
                    byte[]? answer = header switch
                    {
                        "*IDN?" => Line("FAKE,SCPI-1,SN0001,1.0"),
                        "*CLS" => Clear(errors),
                        "*RST" => Set(0),
                        "*OPC?" => Line("1"),
                        "VOLT" when double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is >= 0 and <= 30 => Set(v),
                        "VOLT" => Error(errors, "-222,\"Data out of range\""),
                        "VOLT?" => Line(_volts.ToString("+0.00000000E+00", CultureInfo.InvariantCulture)),
                        "MEAS:VOLT?" => Line("+1.23450000E+00"),
                        "DATA?" => [.. Encoding.ASCII.GetBytes($"#3{Block.Length}"), .. Block, (byte)'\n'],
                        "SYST:ERR?" => Line(errors.TryDequeue(out var e) ? e : "+0,\"No error\""),
                        "SLOW?" => await SlowAsync(),
                        "DROP" => null,
                        _ => Error(errors, "-113,\"Undefined header\""),
                    };
                    if (header == "DROP")
                    {
                        return;
                    }

                    if (answer is { Length: > 0 })
                    {
                        await stream.WriteAsync(answer, _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The driver went away, or the test ended.
            }
        }
    }

    private static byte[] Line(string text) => Encoding.ASCII.GetBytes(text + "\n");

    private static byte[] Clear(Queue<string> errors)
    {
        errors.Clear();
        return [];
    }

    private byte[] Set(double volts)
    {
        _volts = volts;
        return [];
    }

    private static byte[] Error(Queue<string> errors, string error)
    {
        errors.Enqueue(error);
        return [];
    }

    private async Task<byte[]> SlowAsync()
    {
        await Task.Delay(1500, _stop.Token);
        return Line("+9.99000000E+00");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _stop.Dispose();
    }
}
