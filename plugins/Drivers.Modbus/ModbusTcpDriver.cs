using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using PluginHost.Contracts.Equipment;

namespace PluginHost.Drivers.Modbus;

/// <summary>
/// A Modbus TCP client on plain sockets: one request at a time per instrument (a lock, whatever
/// the caller does), transaction ids matched (a late answer to a request that timed out is read and
/// dropped), responses read by their length field across partial reads, a per-request timeout, and
/// a reconnect at the next request after the peer dropped the connection. Options: <c>unit</c>
/// (the unit id, default 1). Port 502 when the binding gives none.
/// </summary>
internal sealed class ModbusTcpDriver : IEquipmentDriver
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private EquipmentEndpoint? _endpoint;
    private TcpClient? _client;
    private NetworkStream? _stream;
    private ushort _transaction;
    private byte _unit = 1;

    public async ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint with { Port = endpoint.Port == 0 ? 502 : endpoint.Port };
        _unit = endpoint.Options.TryGetValue("unit", out var unit) && byte.TryParse(unit, NumberStyles.Integer, CultureInfo.InvariantCulture, out var u)
            ? u
            : endpoint.Options.ContainsKey("unit") ? throw new EquipmentException("MODBUS_BAD_COMMAND", $"option unit \"{unit}\" is not a unit id", "Set the binding's option unit to a number from 0 to 255 (the device's slave id; 1 when unsure).") : (byte)1;
        await OpenAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        // Forget the endpoint too: after a disconnect (a `connect: step` binding between steps, an
        // instrument another station shares) no command may open the connection again on its own.
        // A connection the instrument dropped is still opened again at the next command.
        Close();
        _endpoint = null;
        return ValueTask.CompletedTask;
    }

    public ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(_endpoint is { } endpoint
            ? new EquipmentIdentity("Modbus TCP", $"unit {_unit}", $"{endpoint.Address}:{endpoint.Port}", "")
            : throw new EquipmentException(EquipmentCodes.NotConnected, "the Modbus device is not connected (ConnectAsync first)"));

    public async ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken)
    {
        var request = ModbusRequest.Parse(command);
        var text = await ExchangeAsync(request, cancellationToken).ConfigureAwait(false);
        return new EquipmentReply(text, Encoding.ASCII.GetBytes(text));
    }

    public async ValueTask WriteAsync(string command, CancellationToken cancellationToken) =>
        await ExchangeAsync(ModbusRequest.Parse(command), cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync()
    {
        Close();
        _oneAtATime.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string> ExchangeAsync(ModbusRequest request, CancellationToken cancellationToken)
    {
        var endpoint = _endpoint ?? throw new EquipmentException(EquipmentCodes.NotConnected, "the Modbus device is not connected (ConnectAsync first)");
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(endpoint.Timeout);
            try
            {
                if (_stream is null)
                {
                    await OpenAsync(timeout.Token).ConfigureAwait(false); // the peer dropped us: reconnect for this request
                }

                return await SendAndReceiveAsync(_stream!, request, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new EquipmentException(EquipmentCodes.Timeout, $"{endpoint.Address}:{endpoint.Port} did not answer within {endpoint.Timeout.TotalMilliseconds:F0} ms");
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                Close(); // the next request reconnects
                throw new EquipmentException(EquipmentCodes.Disconnected, $"{endpoint.Address}:{endpoint.Port} dropped the connection: {ex.Message}");
            }
            catch (EquipmentException ex) when (ex.Code == "MODBUS_BAD_FRAME")
            {
                Close(); // after a malformed frame the stream cannot be trusted to be in step
                throw;
            }
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<string> SendAndReceiveAsync(NetworkStream stream, ModbusRequest request, CancellationToken cancellationToken)
    {
        var transaction = ++_transaction;
        var pdu = request.Pdu();
        var adu = new byte[ModbusResponse.HeaderLength + pdu.Length];
        BinaryPrimitives.WriteUInt16BigEndian(adu, transaction);
        BinaryPrimitives.WriteUInt16BigEndian(adu.AsSpan(4), (ushort)(pdu.Length + 1));
        adu[6] = _unit;
        pdu.CopyTo(adu, ModbusResponse.HeaderLength);
        await stream.WriteAsync(adu, cancellationToken).ConfigureAwait(false);

        var header = new byte[ModbusResponse.HeaderLength];
        while (true)
        {
            await ReadExactlyAsync(stream, header, cancellationToken).ConfigureAwait(false);
            var (answered, following) = ModbusResponse.ReadHeader(header);
            var frame = new byte[ModbusResponse.HeaderLength + following];
            header.CopyTo(frame, 0);
            await ReadExactlyAsync(stream, frame.AsMemory(ModbusResponse.HeaderLength), cancellationToken).ConfigureAwait(false);
            if (answered == transaction)
            {
                return ModbusResponse.Decode(frame, request, _unit);
            }

            // The late answer to an earlier request that timed out: not this one's.
        }
    }

    private static async Task ReadExactlyAsync(NetworkStream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("the peer closed the connection");
            }

            read += n;
        }
    }

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        var endpoint = _endpoint!;
        Close();
        var client = new TcpClient { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(endpoint.Timeout);
        try
        {
            await client.ConnectAsync(endpoint.Address, endpoint.Port, timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            client.Dispose();
            throw new EquipmentException(EquipmentCodes.Refused, $"Modbus device {endpoint.Address}:{endpoint.Port} refused the connection ({ex.SocketErrorCode})");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw new EquipmentException(EquipmentCodes.Timeout, $"Modbus device {endpoint.Address}:{endpoint.Port} did not accept a connection within {endpoint.Timeout.TotalMilliseconds:F0} ms");
        }

        (_client, _stream) = (client, client.GetStream());
    }

    private void Close()
    {
        _stream?.Dispose();
        _client?.Dispose();
        (_stream, _client) = (null, null);
    }
}
