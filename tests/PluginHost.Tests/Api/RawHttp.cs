using System.Net.Sockets;
using System.Text;

namespace PluginHost.Tests.Api;

/// <summary>
/// HTTP/1.1 written byte for byte, for requests no HTTP client would send. "Host: h" in a request
/// is replaced by the loopback address and port, which the API's host check accepts.
/// </summary>
internal static class RawHttp
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    internal sealed record Answer(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    }

    public static async Task<Answer> SendAsync(int port, string request) => (await SendManyAsync(port, request)).Single();

    /// <summary>Sends everything at once (pipelined), then reads answers until the server closes the connection.</summary>
    public static async Task<IReadOnlyList<Answer>> SendManyAsync(int port, string requests)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, deadline.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests.Replace("Host: h\r\n", $"Host: 127.0.0.1:{port}\r\n", StringComparison.Ordinal)), deadline.Token);

        var received = new MemoryStream();
        var buffer = new byte[8192];
        var answers = new List<Answer>();
        while (true)
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
            // Good answers keep the connection open: stop once every request has its answer.
            answers = Parse(received.ToArray(), out var complete);
            if (complete && answers.Count == CountRequests(requests))
            {
                break;
            }
        }

        return Parse(received.ToArray(), out _);
    }

    private static int CountRequests(string requests) =>
        requests.Split("HTTP/", StringSplitOptions.None).Length - 1;

    private static List<Answer> Parse(byte[] bytes, out bool complete)
    {
        var answers = new List<Answer>();
        var text = Encoding.UTF8.GetString(bytes);
        var at = 0;
        complete = true;
        while (at < text.Length)
        {
            var end = text.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
            if (end < 0)
            {
                complete = false;
                break;
            }

            var lines = text[at..end].Split("\r\n");
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
            if (headers.TryGetValue("Transfer-Encoding", out var coding) && coding == "chunked")
            {
                var body = new StringBuilder();
                var next = end + 4;
                while (true)
                {
                    var sizeEnd = text.IndexOf("\r\n", next, StringComparison.Ordinal);
                    if (sizeEnd < 0)
                    {
                        complete = false;
                        return answers;
                    }

                    var size = Convert.ToInt32(text[next..sizeEnd], 16);
                    if (sizeEnd + 2 + size + 2 > text.Length)
                    {
                        complete = false;
                        return answers;
                    }

                    body.Append(text, sizeEnd + 2, size);
                    next = sizeEnd + 2 + size + 2;
                    if (size == 0)
                    {
                        break;
                    }
                }

                answers.Add(new Answer(status, headers, body.ToString()));
                at = next;
                continue;
            }

            var length = headers.TryGetValue("Content-Length", out var l) ? int.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : 0;
            if (end + 4 + length > text.Length)
            {
                complete = false;
                break;
            }

            answers.Add(new Answer(status, headers, text.Substring(end + 4, length)));
            at = end + 4 + length;
        }

        return answers;
    }
}
