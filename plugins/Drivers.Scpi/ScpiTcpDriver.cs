using System.Globalization;
using System.Net.Sockets;
using System.Text;
using PluginHost.Contracts.Equipment;
using PluginHost.Plugins;

namespace PluginHost.Drivers.Scpi;

/// <summary>
/// An SCPI instrument over raw TCP (port 5025 unless the binding says otherwise), as OpenTAP's
/// <c>ScpiInstrument</c> drives one but without VISA: every message ends with LF; <c>*CLS</c> and
/// <c>*IDN?</c> on connect; after every command the <c>SYST:ERR?</c> queue is drained and anything
/// in it is the command's <c>SCPI_ERROR code</c>; IEEE 488.2 definite-length blocks (<c>#3100…</c>)
/// are read by their length, newlines and all; one command at a time per instrument (a lock); a
/// timeout closes the connection, since a late answer would be taken for the next query's, and the
/// next command reconnects. Options: <c>checkErrors: false</c> for instruments without SYST:ERR?.
/// </summary>
internal sealed class ScpiTcpDriver : IEquipmentDriver
{
    private const int MaxErrors = 32;
    private const int MaxLine = 1 << 20;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private EquipmentEndpoint? _endpoint;
    private TcpClient? _client;
    private NetworkStream? _stream;
    private byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;
    private bool _checkErrors = true;
    private EquipmentIdentity? _identity;

    public async ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint with { Port = endpoint.Port == 0 ? 5025 : endpoint.Port };
        _checkErrors = !(endpoint.Options.TryGetValue("checkErrors", out var check) && check is "false" or "0" or "no");
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WithTimeoutAsync(async token =>
            {
                await OpenAsync(token).ConfigureAwait(false);
                return "";
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        // Forget the endpoint too: after a disconnect (a `connect: step` binding between steps, an
        // instrument another station shares) no command may open the connection again on its own.
        // A connection the instrument dropped is still opened again at the next command.
        Close();
        (_endpoint, _identity) = (null, null);
        return ValueTask.CompletedTask;
    }

    public ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(_identity ?? throw new EquipmentException(EquipmentCodes.NotConnected, "the SCPI instrument is not connected"));

    /// <summary>The instrument's error queue, read with SYST:ERR? until <c>0,"No error"</c> (empty when <c>checkErrors: false</c>).</summary>
    public async ValueTask<IReadOnlyList<EquipmentError>> ReadErrorsAsync(CancellationToken cancellationToken)
    {
        if (!_checkErrors)
        {
            return [];
        }

        var errors = new List<EquipmentError>();
        await LockedAsync(async token =>
        {
            errors = await ReadErrorQueueAsync(token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return errors;
    }

    public async ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        return await ExchangeAsync(command, expectsReply: true, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WriteAsync(string command, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        await ExchangeAsync(command, expectsReply: false, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        Close();
        _oneAtATime.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<EquipmentReply> ExchangeAsync(string command, bool expectsReply, CancellationToken cancellationToken)
    {
        if (command.Contains('\n', StringComparison.Ordinal))
        {
            throw new EquipmentException(EquipmentCodes.BadCommand, "an SCPI command is one line", "Join several commands with ';' on one line.");
        }

        EquipmentReply reply = new("", ReadOnlyMemory<byte>.Empty);
        await LockedAsync(async token =>
        {
            await SendAsync(command, token).ConfigureAwait(false);
            if (expectsReply)
            {
                reply = await ReadReplyAsync(token).ConfigureAwait(false);
            }

            if (_checkErrors && await ReadErrorQueueAsync(token).ConfigureAwait(false) is [var first, ..] errors)
            {
                throw new EquipmentException($"SCPI_ERROR {first.Number}",
                    $"\"{command}\": the instrument reported {string.Join("; ", errors.Select(e => $"{e.Number}, {e.Message}"))}", ScpiErrorClasses.RemedyFor(first.Number));
            }
        }, cancellationToken).ConfigureAwait(false);
        return reply;
    }

    /// <summary>One exchange with the instrument: alone (one command at a time), connected first if need be, within the endpoint's timeout.</summary>
    private async Task LockedAsync(Func<CancellationToken, Task> exchange, CancellationToken cancellationToken)
    {
        if (_endpoint is null)
        {
            throw new EquipmentException(EquipmentCodes.NotConnected, "the SCPI instrument is not connected (ConnectAsync first)");
        }

        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WithTimeoutAsync(async token =>
            {
                if (_stream is null)
                {
                    await OpenAsync(token).ConfigureAwait(false);
                }

                await exchange(token).ConfigureAwait(false);
                return "";
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task WithTimeoutAsync(Func<CancellationToken, Task<string>> action, CancellationToken cancellationToken)
    {
        var endpoint = _endpoint!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(endpoint.Timeout);
        try
        {
            await action(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Close(); // a late answer must not be read as the next query's
            throw new EquipmentException(EquipmentCodes.Timeout, $"{endpoint.Address}:{endpoint.Port} did not answer within {endpoint.Timeout.TotalMilliseconds:F0} ms");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Close();
            throw new EquipmentException(EquipmentCodes.Disconnected, $"{endpoint.Address}:{endpoint.Port} dropped the connection: {ex.Message}");
        }
    }

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        var endpoint = _endpoint!;
        Close();
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(endpoint.Address, endpoint.Port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            client.Dispose();
            throw new EquipmentException(EquipmentCodes.Refused, $"SCPI instrument {endpoint.Address}:{endpoint.Port} refused the connection ({ex.SocketErrorCode})");
        }
        catch
        {
            client.Dispose();
            throw;
        }

        (_client, _stream) = (client, client.GetStream());
        (_start, _end) = (0, 0);
        await SendAsync("*CLS", cancellationToken).ConfigureAwait(false);
        await SendAsync("*IDN?", cancellationToken).ConfigureAwait(false);
        var idn = (await ReadReplyAsync(cancellationToken).ConfigureAwait(false)).Text.Split(',');
        _identity = new EquipmentIdentity(Field(idn, 0), Field(idn, 1), Field(idn, 2), Field(idn, 3));
    }

    private async Task SendAsync(string command, CancellationToken cancellationToken) =>
        await _stream!.WriteAsync(Encoding.ASCII.GetBytes(command + "\n"), cancellationToken).ConfigureAwait(false);

    /// <summary>A reply: a line up to LF, or an IEEE 488.2 definite-length block <c>#NLLL…</c> read by its length.</summary>
    private async Task<EquipmentReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        await FillAsync(1, cancellationToken).ConfigureAwait(false);
        if (_buffer[_start] == (byte)'#')
        {
            await FillAsync(2, cancellationToken).ConfigureAwait(false);
            var digits = _buffer[_start + 1] - '0';
            if (digits is < 1 or > 9)
            {
                throw new EquipmentException("SCPI_BAD_REPLY", $"a block header #{(char)_buffer[_start + 1]}: an indefinite-length block (#0) or no digit count",
                    "Set the instrument to send definite-length blocks (#N…); indefinite-length ones (#0) end only at the connection's end.");
            }

            await FillAsync(2 + digits, cancellationToken).ConfigureAwait(false);
            var lengthText = Encoding.ASCII.GetString(_buffer, _start + 2, digits);
            if (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > MaxLine)
            {
                throw new EquipmentException("SCPI_BAD_REPLY", $"a block length \"{lengthText}\" (at most {MaxLine} bytes)",
                    "Ask for less data per query (a smaller trace or fewer points).");
            }

            var header = 2 + digits;
            await FillAsync(header + length, cancellationToken).ConfigureAwait(false);
            var payload = _buffer.AsSpan(_start + header, length).ToArray();
            _start += header + length;
            if (await TryPeekAsync(cancellationToken).ConfigureAwait(false) == '\n')
            {
                _start++; // the message terminator after the block
            }

            return new EquipmentReply(Encoding.Latin1.GetString(payload), payload);
        }

        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = _buffer.AsSpan(_start, newline - _start).TrimEnd((byte)'\r').ToArray();
                _start = newline + 1;
                return new EquipmentReply(Encoding.ASCII.GetString(line), line);
            }

            if (_end - _start >= MaxLine)
            {
                throw new EquipmentException("SCPI_BAD_REPLY", $"a reply longer than {MaxLine} bytes without a newline",
                    "Check that the instrument ends its answers with LF (its LAN/socket terminator setting).");
            }

            await FillAsync(_end - _start + 1, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>SYST:ERR? until "0,…" (at most 32 entries, as an instrument stuck on one error repeats it).</summary>
    private async Task<List<EquipmentError>> ReadErrorQueueAsync(CancellationToken cancellationToken)
    {
        var errors = new List<EquipmentError>();
        for (var i = 0; i < MaxErrors; i++)
        {
            await SendAsync("SYST:ERR?", cancellationToken).ConfigureAwait(false);
            var reply = (await ReadReplyAsync(cancellationToken).ConfigureAwait(false)).Text;
            var comma = reply.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !int.TryParse(reply[..comma], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code))
            {
                throw new EquipmentException("SCPI_BAD_REPLY", $"SYST:ERR? answered \"{reply}\" (code,\"message\" expected)",
                    "The instrument does not answer SYST:ERR? as SCPI says: set the binding's option checkErrors: false if it has no error queue.");
            }

            if (code == 0)
            {
                break;
            }

            errors.Add(new EquipmentError(code, reply[(comma + 1)..].Trim().Trim('"')));
        }

        return errors;
    }

    private async Task FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_start + count > _buffer.Length)
        {
            var grown = new byte[Math.Max(_buffer.Length * 2, count)];
            Array.Copy(_buffer, _start, grown, 0, _end - _start);
            (_buffer, _end, _start) = (grown, _end - _start, 0);
        }

        while (_end - _start < count)
        {
            var n = await _stream!.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("the instrument closed the connection");
            }

            _end += n;
        }
    }

    private async Task<int> TryPeekAsync(CancellationToken cancellationToken)
    {
        if (_end > _start)
        {
            return _buffer[_start];
        }

        if (_stream!.DataAvailable)
        {
            await FillAsync(1, cancellationToken).ConfigureAwait(false);
            return _buffer[_start];
        }

        return -1;
    }

    private static string Field(string[] fields, int i) => i < fields.Length ? fields[i].Trim() : "";

    private void Close()
    {
        _stream?.Dispose();
        _client?.Dispose();
        (_stream, _client) = (null, null);
    }
}
