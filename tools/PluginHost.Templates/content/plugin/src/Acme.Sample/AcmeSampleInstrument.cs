using System.Net.Sockets;
using System.Text;
using PluginHost.Contracts.Equipment;

namespace Acme.Sample;

/// <summary>
/// An instrument that takes one text command per line over TCP and answers a query (a command with
/// a <c>?</c>) with one line; an answer starting with <c>ERR</c> is the instrument's refusal. Most
/// bench instruments' raw-socket mode (SCPI on port 5025) works this way: change <see cref="Exchange"/>
/// to speak yours. The station worker calls an instance one command at a time and connects it again
/// after a disconnect, so no lock is needed here; every failure is an <see cref="EquipmentException"/>
/// with a code and a remedy.
/// </summary>
internal sealed class AcmeSampleInstrument : IEquipmentDriver
{
    private EquipmentEndpoint? _endpoint;
    private TcpClient? _client;
    private StreamReader? _reader;
    private NetworkStream? _stream;

    public async ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint with { Port = endpoint.Port == 0 ? 5025 : endpoint.Port };
        await OpenAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection and forgets the endpoint: nothing opens it again until the next ConnectAsync.</summary>
    public ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        Close();
        _endpoint = null;
        return ValueTask.CompletedTask;
    }

    public async ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken)
    {
        var fields = (await QueryAsync("*IDN?", cancellationToken).ConfigureAwait(false)).Text.Split(',');
        string Field(int i) => i < fields.Length ? fields[i].Trim() : "";
        return new EquipmentIdentity(Field(0), Field(1), Field(2), Field(3));
    }

    public async ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken)
    {
        var line = await Exchange(command, answers: true, cancellationToken).ConfigureAwait(false);
        return new EquipmentReply(line, Encoding.UTF8.GetBytes(line));
    }

    public async ValueTask WriteAsync(string command, CancellationToken cancellationToken) =>
        await Exchange(command, answers: false, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    /// <summary>One command, and its answer when it has one, within the endpoint's timeout.</summary>
    private async Task<string> Exchange(string command, bool answers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var endpoint = _endpoint ?? throw new EquipmentException(EquipmentCodes.NotConnected, "the instrument is not connected (ConnectAsync first)");
        if (command.Length == 0 || command.Contains('\n', StringComparison.Ordinal) || command.Contains('\r', StringComparison.Ordinal))
        {
            throw new EquipmentException(EquipmentCodes.BadCommand, $"\"{command}\" is not one line of text");
        }

        if (_stream is null)
        {
            await OpenAsync(cancellationToken).ConfigureAwait(false); // the instrument dropped the connection: open it again
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(endpoint.Timeout);
        string? answer;
        try
        {
            await _stream!.WriteAsync(Encoding.UTF8.GetBytes(command + "\n"), timeout.Token).ConfigureAwait(false);
            if (!answers)
            {
                return "";
            }

            answer = await _reader!.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Close(); // a late answer must never be taken for the next command's
            throw new EquipmentException(EquipmentCodes.Timeout, $"\"{command}\": no answer from {endpoint.Address}:{endpoint.Port} within {endpoint.Timeout.TotalMilliseconds:F0} ms");
        }
        catch (IOException ex)
        {
            Close();
            throw new EquipmentException(EquipmentCodes.Disconnected, $"\"{command}\": {endpoint.Address}:{endpoint.Port} dropped the connection ({ex.Message})");
        }

        if (answer is null)
        {
            Close();
            throw new EquipmentException(EquipmentCodes.Disconnected, $"\"{command}\": {endpoint.Address}:{endpoint.Port} closed the connection");
        }

        return answer.StartsWith("ERR", StringComparison.Ordinal)
            ? throw new EquipmentException("ACME_SAMPLE_REFUSED_COMMAND", $"\"{command}\": the instrument answered {answer}", "Check the command against the instrument's manual; the connection stays open.")
            : answer;
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
            throw new EquipmentException(EquipmentCodes.Refused, $"{endpoint.Address}:{endpoint.Port} refused the connection ({ex.SocketErrorCode})");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw new EquipmentException(EquipmentCodes.Timeout, $"{endpoint.Address}:{endpoint.Port} did not accept the connection within {endpoint.Timeout.TotalMilliseconds:F0} ms");
        }

        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
    }

    private void Close()
    {
        _reader?.Dispose();
        _stream?.Dispose();
        _client?.Dispose();
        (_reader, _stream, _client) = (null, null, null);
    }
}
