using System.Net.Sockets;
using System.Text;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// One HTTP/1.1 request with arbitrary header lines — the same name twice, which
/// <see cref="HttpClient"/> folds into one comma-joined line — to 127.0.0.1. Bounded waits.
/// </summary>
public static class RawRequest
{
    public sealed record Response(int Status, string Head, string Body)
    {
        /// <summary>The values of header <paramref name="name"/> (case-insensitive), in order.</summary>
        public IReadOnlyList<string> Header(string name)
        {
            var values = new List<string>();
            foreach (var line in Head.Split("\r\n"))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    values.Add(line[(colon + 1)..].Trim());
                }
            }

            return values;
        }
    }

    public static async Task<Response> SendAsync(Uri baseAddress, string method, string target, IEnumerable<(string Name, string Value)> headers, TimeSpan timeout)
    {
        if (baseAddress.Host != "127.0.0.1")
        {
            throw new ArgumentException("raw requests go to 127.0.0.1 only", nameof(baseAddress));
        }

        using var cancel = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", baseAddress.Port, cancel.Token);
        var stream = client.GetStream();
        var request = new StringBuilder();
        request.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(baseAddress.Authority).Append("\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cancel.Token);

        // Connection: close: the server ends the stream after its answer.
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, cancel.Token);
        var text = Encoding.UTF8.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (!text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || end < 0)
        {
            throw new InvalidDataException($"no HTTP response (got {received.Length} bytes)");
        }

        var status = int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        return new Response(status, text[..end], text[(end + 4)..]);
    }
}
