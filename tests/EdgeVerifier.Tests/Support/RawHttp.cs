using System.Net.Sockets;
using System.Text;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// Sends one HTTP/1.1 request as raw bytes to 127.0.0.1 and reads the first response's status
/// line and headers, for requests <see cref="HttpClient"/> refuses to send (CR, LF or NUL in a
/// header value). Every wait is bounded.
/// </summary>
public static class RawHttp
{
    public sealed record Response(int Status, string Head);

    /// <summary>
    /// <c>GET {path}</c> with <c>Connection: close</c> first (so whatever the value smuggles in
    /// after it, the server closes after the first answer) and then <c>Authorization: {value}</c>,
    /// each char of <paramref name="authorization"/> sent as one byte (Latin-1).
    /// </summary>
    public static async Task<Response> GetAsync(Uri baseAddress, string path, string authorization, TimeSpan timeout)
    {
        if (baseAddress.Host != "127.0.0.1")
        {
            throw new ArgumentException("raw requests go to 127.0.0.1 only", nameof(baseAddress));
        }

        using var cancel = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", baseAddress.Port, cancel.Token);
        var stream = client.GetStream();
        var request = new List<byte>(authorization.Length + 128);
        request.AddRange(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: "));
        request.AddRange(Encoding.Latin1.GetBytes(authorization));
        request.AddRange("\r\n\r\n"u8.ToArray());
        try
        {
            await stream.WriteAsync(request.ToArray(), cancel.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before reading everything; read what it said.
        }

        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, cancel.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                if (HeadEnd(received) >= 0)
                {
                    break;
                }
            }
        }
        catch (IOException) when (received.Length > 0)
        {
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = end >= 0 ? text[..end] : text;
        if (!head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || head.Length < 12
            || !int.TryParse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture, out var status))
        {
            throw new InvalidDataException($"no HTTP response (got {received.Length} bytes)");
        }

        return new Response(status, head);
    }

    /// <summary>Whether the response head carries <paramref name="name"/> (case-insensitive).</summary>
    public static bool HasHeader(this Response response, string name) =>
        response.Head.Contains("\r\n" + name + ":", StringComparison.OrdinalIgnoreCase);

    private static int HeadEnd(MemoryStream received)
    {
        var span = received.GetBuffer().AsSpan(0, (int)received.Length);
        return span.IndexOf("\r\n\r\n"u8);
    }
}
