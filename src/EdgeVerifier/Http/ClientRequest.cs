using EdgeVerifier.Policy;
using Microsoft.Extensions.Primitives;

namespace EdgeVerifier.Http;

/// <summary>
/// The request as the client made it, reconstructed from what the proxy forwards (for DPoP
/// <c>htm</c>/<c>htu</c>): Traefik's <c>X-Forwarded-Method/Proto/Host/Uri</c>, nginx's
/// <c>X-Original-Method</c>/<c>X-Original-URI</c>; without them, the request itself.
/// </summary>
internal static class ClientRequest
{
    /// <summary>
    /// The client's method, or null when the proxy headers disagree or repeat (a client could have
    /// sent one of them itself: with two answers there is none to trust).
    /// </summary>
    public static string? Method(HttpRequest request)
    {
        var headers = request.Headers;
        var forwarded = headers["X-Forwarded-Method"];
        var original = headers["X-Original-Method"];
        if (forwarded.Count > 1 || original.Count > 1
            || (Single(forwarded) is { } f && Single(original) is { } o && !string.Equals(f, o, StringComparison.Ordinal)))
        {
            return null;
        }

        return Single(forwarded) ?? Single(original) ?? request.Method;
    }

    /// <summary>
    /// The URL the client addressed. The target comes from <see cref="ForwardedTarget"/>, the same
    /// reading the path scope uses: conflicting or repeated target headers give null, never one of them.
    /// </summary>
    public static string? Url(HttpRequest request)
    {
        var headers = request.Headers;
        var forwarded = ForwardedTarget.From(headers);
        if (forwarded.Ambiguous)
        {
            return null;
        }

        // A comma is legal in a path and query, so the target is never read as a list.
        var target = string.IsNullOrWhiteSpace(forwarded.Raw) ? null : forwarded.Raw.Trim();
        if (target is null)
        {
            return $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}{request.Path.Value}";
        }

        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return target;
        }

        if (!target.StartsWith('/'))
        {
            return null;
        }

        var scheme = First(headers["X-Forwarded-Proto"]) ?? request.Scheme;
        var host = First(headers["X-Forwarded-Host"]) ?? request.Host.Value;
        return $"{scheme}://{host}{target}";
    }

    /// <summary>The first value of a header whose value is not a list.</summary>
    private static string? Single(StringValues values) =>
        values.Count == 0 || string.IsNullOrWhiteSpace(values[0]) ? null : values[0]!.Trim();

    /// <summary>The first value of a header that may be a comma-separated list (proxies append).</summary>
    private static string? First(StringValues values)
    {
        if (values.Count == 0 || string.IsNullOrWhiteSpace(values[0]))
        {
            return null;
        }

        var value = values[0]!;
        var comma = value.IndexOf(',', StringComparison.Ordinal);
        return (comma < 0 ? value : value[..comma]).Trim();
    }
}
