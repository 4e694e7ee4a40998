using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Acme.Sample.Tests;

/// <summary>
/// A stand-in for the instrument on loopback TCP, one command per line: <c>*IDN?</c>, <c>MEAS?</c>
/// (the last <c>VOLT</c> set), <c>VOLT x</c>; any other query is answered <c>ERR</c>. Replace it
/// with your instrument's own simulator, or run the tests against the real one.
/// </summary>
internal sealed class FakeInstrument : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private double _volts = 1.25;

    public FakeInstrument()
    {
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task ServeAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = Task.Run(() => AnswerAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            using var stream = client.GetStream();
            using var reader = new StreamReader(stream);
            using var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
            try
            {
                while (await reader.ReadLineAsync(_stop.Token) is { } command)
                {
                    if (command.StartsWith("VOLT ", StringComparison.Ordinal) && double.TryParse(command[5..], CultureInfo.InvariantCulture, out var volts))
                    {
                        _volts = volts;
                    }
                    else if (command.EndsWith('?'))
                    {
                        await writer.WriteLineAsync(command switch
                        {
                            "*IDN?" => "Acme,Sample-1,SN0001,1.0",
                            "MEAS?" => _volts.ToString("F3", CultureInfo.InvariantCulture),
                            _ => $"ERR unknown command {command}",
                        });
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _stop.Dispose();
    }
}
