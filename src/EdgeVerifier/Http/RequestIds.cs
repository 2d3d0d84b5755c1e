using System.Buffers;

namespace EdgeVerifier.Http;

/// <summary><c>X-Request-ID</c>: echoed when it is a safe token, generated otherwise.</summary>
internal static class RequestIds
{
    public const string Header = "X-Request-ID";
    private const int MaxLength = 128;

    // Safe to echo verbatim into a header and a JSON string.
    private static readonly SearchValues<char> Safe =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:");

    public static string Apply(HttpContext context)
    {
        var incoming = context.Request.Headers[Header];
        string id;
        if (incoming.Count == 1 && incoming[0] is { Length: > 0 and <= MaxLength } value && !value.AsSpan().ContainsAnyExcept(Safe))
        {
            id = value;
        }
        else
        {
            // Kestrel's connection-scoped identifier is unique per request and cheap.
            id = context.TraceIdentifier;
        }

        context.Response.Headers[Header] = id;
        return id;
    }
}
