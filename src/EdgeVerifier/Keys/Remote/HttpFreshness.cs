using System.Net.Http.Headers;

namespace EdgeVerifier.Keys.Remote;

/// <summary>
/// RFC 9111 freshness of a key response: <c>max-age</c> (less <c>Age</c>), <c>no-store</c>/<c>no-cache</c>,
/// clamped to the configured minimum and maximum; <c>stale-while-revalidate</c> is reported separately.
/// </summary>
public static class HttpFreshness
{
    public static TimeSpan FreshFor(HttpResponseHeaders headers, RemoteKeyOptions options)
    {
        var min = TimeSpan.FromSeconds(options.MinTtlSeconds);
        var max = TimeSpan.FromSeconds(options.MaxTtlSeconds);
        var cacheControl = headers.CacheControl;
        TimeSpan ttl;
        if (cacheControl is { NoStore: true } or { NoCache: true })
        {
            // Keys are public; "do not store" is honoured as "keep for the minimum only".
            ttl = TimeSpan.Zero;
        }
        else if (cacheControl?.SharedMaxAge is { } sMaxAge)
        {
            ttl = sMaxAge - (headers.Age ?? TimeSpan.Zero);
        }
        else if (cacheControl?.MaxAge is { } maxAge)
        {
            ttl = maxAge - (headers.Age ?? TimeSpan.Zero);
        }
        else
        {
            ttl = TimeSpan.FromSeconds(options.DefaultTtlSeconds);
        }

        return ttl < min ? min : ttl > max ? max : ttl;
    }

    /// <summary>The <c>stale-while-revalidate</c> window (RFC 5861), or zero.</summary>
    public static TimeSpan StaleWhileRevalidate(HttpResponseHeaders headers)
    {
        foreach (var extension in headers.CacheControl?.Extensions ?? [])
        {
            if (string.Equals(extension.Name, "stale-while-revalidate", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(extension.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }

        return TimeSpan.Zero;
    }
}
