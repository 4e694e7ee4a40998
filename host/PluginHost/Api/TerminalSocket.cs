using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PluginHost.Contracts.Units;
using PluginHost.Core.Supervision;
using PluginHost.Core.Terminals;

namespace PluginHost.Api;

/// <summary>
/// <c>GET /api/units/{name}/pty</c> as a WebSocket: the session's scrollback, then its live output
/// as binary messages; binary messages from the client are typed into the terminal, text messages
/// are JSON controls (<c>{"type":"resize","cols":100,"rows":30}</c>, <c>{"type":"input","data":"ls\r"}</c>).
/// Any number of viewers may attach; each is lossless (a full viewer makes the program wait, one
/// that takes nothing for 30 s is closed with the reason).
/// </summary>
internal static class TerminalSocket
{
    public const int MaxMessageBytes = 64 * 1024;

    public static async Task<IResult> ServeAsync(HttpContext http, UnitSupervisor unit, CancellationToken stopping)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return ApiProblem.Of(StatusCodes.Status400BadRequest, "WEBSOCKET_REQUIRED", "WebSocket required",
                "This endpoint speaks WebSocket only.", $"Connect with a WebSocket client to ws://HOST/api/units/{unit.Name}/pty, or use the write/scrollback operations.");
        }

        if (unit.Terminal is not { } terminal)
        {
            return ApiProblem.Of(StatusCodes.Status409Conflict, "PTY_NOT_RUNNING", "No terminal", $"{unit.Name} has no running terminal session.",
                $"Start it (pluginhost start {unit.Name}); only units that run on a pseudo-terminal have one.");
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        using var viewer = terminal.Attach();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var send = SendAsync(socket, viewer, done.Token);
        var receive = ReceiveAsync(socket, terminal, done.Token);
        await Task.WhenAny(send, receive).ConfigureAwait(false);
        await done.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(Quietly(send), Quietly(receive)).ConfigureAwait(false);
        return ApiReply.Done;
    }

    private static async Task SendAsync(WebSocket socket, TerminalViewer viewer, CancellationToken cancellationToken)
    {
        if (viewer.Backlog.Length > 0)
        {
            await socket.SendAsync(viewer.Backlog, WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
        }

        while (await viewer.ReadAsync(cancellationToken).ConfigureAwait(false) is { } chunk)
        {
            await socket.SendAsync(chunk, WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
        }

        var reason = viewer.EndReason ?? "the session has ended";
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason.Length > 120 ? reason[..120] : reason, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ReceiveAsync(WebSocket socket, PtyTerminal terminal, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxMessageBytes];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == buffer.Length)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, $"messages are limited to {MaxMessageBytes} bytes", cancellationToken).ConfigureAwait(false);
                    return;
                }

                result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            if (result.MessageType == WebSocketMessageType.Binary)
            {
                await terminal.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                continue;
            }

            await ControlAsync(terminal, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ControlAsync(PtyTerminal terminal, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            switch (root.GetProperty("type").GetString())
            {
                case "resize":
                    var size = new TerminalSize(root.GetProperty("cols").GetInt32(), root.GetProperty("rows").GetInt32());
                    if (size.Columns is >= 2 and <= 1000 && size.Rows is >= 2 and <= 1000)
                    {
                        await terminal.ResizeAsync(size, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case "input":
                    await terminal.WriteAsync(System.Text.Encoding.UTF8.GetBytes(root.GetProperty("data").GetString() ?? ""), cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // A malformed control message is ignored; the session goes on.
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
        }
    }
}
