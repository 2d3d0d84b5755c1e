using System.Net;
using System.Net.Http.Headers;
using EdgeVerifier.Diagnostics;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace EdgeVerifier.Keys.Remote;

public enum FetchStatus : byte
{
    Ok,
    NotModified,
    NotFound,
    Failed,
}

/// <summary>One HTTP answer from a key registry, reduced to what the key sources need.</summary>
public readonly record struct FetchResult(FetchStatus Status, byte[]? Body, TimeSpan FreshFor, TimeSpan StaleWhileRevalidate, string? ETag, string? Error)
{
    public static FetchResult Fail(string error) => new(FetchStatus.Failed, null, default, default, null, error);
}

/// <summary>
/// GETs key documents through the resilient <see cref="HttpClient"/> (timeouts, retries,
/// per-host circuit breaker) with <c>If-None-Match</c>, a size cap, and errors as values.
/// The revocation list is fetched the same way, with its own cap, <c>Accept</c> and logging.
/// </summary>
/// <param name="client">The resilient client.</param>
/// <param name="options">Freshness clamps for <c>Cache-Control</c>.</param>
/// <param name="logger">Where failures are logged (event 20), unless <paramref name="logFailures"/> is false.</param>
/// <param name="maxBytes">Largest accepted body.</param>
/// <param name="accept">The <c>Accept</c> header.</param>
/// <param name="logFailures">False when the caller logs failures itself.</param>
public sealed class KeyFetcher(HttpClient client, RemoteKeyOptions options, ILogger logger, int maxBytes = JwkReader.MaxDocumentBytes, string accept = "application/jwk-set+json, application/jwk+json, application/json", bool logFailures = true)
{
    public async Task<FetchResult> GetAsync(Uri url, string? etag, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(accept);
        if (etag is not null && EntityTagHeaderValue.TryParse(etag, out var tag))
        {
            request.Headers.IfNoneMatch.Add(tag);
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var freshFor = HttpFreshness.FreshFor(response.Headers, options);
            var swr = HttpFreshness.StaleWhileRevalidate(response.Headers);
            var newTag = response.Headers.ETag?.ToString();
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotModified:
                    return new(FetchStatus.NotModified, null, freshFor, swr, newTag ?? etag, null);
                case HttpStatusCode.NotFound:
                    return new(FetchStatus.NotFound, null, freshFor, swr, null, null);
                case HttpStatusCode.OK:
                    break;
                default:
                    return Failed(url, $"HTTP {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > maxBytes)
            {
                return Failed(url, $"response larger than {maxBytes} bytes");
            }

            var body = await ReadCappedAsync(response.Content, maxBytes, cancellationToken).ConfigureAwait(false);
            return body is null
                ? Failed(url, $"response larger than {maxBytes} bytes")
                : new(FetchStatus.Ok, body, freshFor, swr, newTag, null);
        }
        catch (Exception e) when (FailureReason(e) is { } reason)
        {
            return Failed(url, reason);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(url, "timed out");
        }
    }

    private FetchResult Failed(Uri url, string reason)
    {
        if (logFailures)
        {
            Log.KeyFetchFailed(logger, url.GetLeftPart(UriPartial.Path), reason);
        }

        return FetchResult.Fail(reason);
    }

    /// <summary>
    /// Why a call through the resilience pipeline failed, for the failures an upstream is expected to
    /// have (open circuit, timeout, network or protocol error); null for anything else, cancellation included.
    /// </summary>
    internal static string? FailureReason(Exception e) => e switch
    {
        BrokenCircuitException => "circuit open",
        TimeoutRejectedException => "timed out",
        HttpRequestException http => http.HttpRequestError.ToString() + ": " + http.Message,
        _ => null,
    };

    /// <summary>The body, or null when it exceeds <paramref name="maxBytes"/> (read no further than that).</summary>
    internal static async Task<byte[]?> ReadCappedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }
}
