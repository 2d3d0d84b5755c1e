using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using EdgeVerifier.Diagnostics;
using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Introspection;

/// <summary>One configured endpoint, ready to call.</summary>
internal sealed class IntrospectionEndpoint(string prefix, Uri url, AuthenticationHeaderValue? authorization, HttpClient client)
{
    public string Prefix { get; } = prefix;

    public Uri Url { get; } = url;

    public AuthenticationHeaderValue? Authorization { get; } = authorization;

    public HttpClient Client { get; } = client;

    /// <summary>The URL without query, for logs.</summary>
    public string Name { get; } = url.GetLeftPart(UriPartial.Path);

    /// <summary>RFC 6749 §2.3.1 <c>client_secret_basic</c>: id and secret form-encoded, then base64.</summary>
    public static AuthenticationHeaderValue? ClientAuthentication(IntrospectionEndpointOptions o)
    {
        if (o.ClientId is { } id && o.ClientSecret is { } secret)
        {
            var pair = WebUtility.UrlEncode(id) + ":" + WebUtility.UrlEncode(secret);
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(pair)));
        }

        return o.BearerToken is { } bearer ? new AuthenticationHeaderValue("Bearer", bearer) : null;
    }
}

/// <summary>
/// Opaque tokens (DESIGN.md step 2, "Opaque tokens"): a token that starts with a configured
/// prefix is POSTed to that prefix's RFC 7662 endpoint. <c>active:true</c> answers are cached by
/// SHA-256 of the token for min(TTL, <c>exp</c> − now) on the injected clock; <c>active:false</c>,
/// unknown subjects and every failure are never cached. Concurrent misses for one token share one
/// upstream call. A cache hit completes synchronously without allocating.
/// </summary>
public sealed class TokenIntrospector : IDisposable
{
    /// <summary>Largest introspection answer read.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    // RFC 6750 §2.1 b64token: what a bearer credential may contain.
    private static readonly SearchValues<char> TokenAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=");

    private readonly IntrospectionEndpoint[] _endpoints;
    private readonly IntrospectionCache _cache;
    private readonly ConcurrentDictionary<TokenHash, Task<VerifyResult>> _inflight = new();
    private readonly HashSet<string>? _subjects;
    private readonly ClaimsPolicy _claims;
    private readonly long _ttlMs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly IDisposable? _owned;

    internal TokenIntrospector(IEnumerable<IntrospectionEndpoint> endpoints, ClaimsPolicy claims, IntrospectionOptions options, HashSet<string>? subjects, TimeProvider time, ILogger logger, IDisposable? owned)
    {
        var sorted = new List<IntrospectionEndpoint>(endpoints);
        sorted.Sort(static (a, b) => b.Prefix.Length.CompareTo(a.Prefix.Length)); // longest prefix first
        _endpoints = [.. sorted];
        _claims = claims;
        _subjects = subjects;
        _ttlMs = options.CacheTtlSeconds * 1000L;
        _cache = new IntrospectionCache(time, options.CacheMaxEntries);
        _time = time;
        _logger = logger;
        _owned = owned;
    }

    /// <summary>Answers currently cached (for tests and diagnostics).</summary>
    public int CachedCount => _cache.Count;

    /// <summary>Whether <paramref name="token"/> carries a configured prefix (and so is not a JWT for this verifier).</summary>
    public bool Handles(ReadOnlySpan<char> token) => Match(token) is not null;

    private IntrospectionEndpoint? Match(ReadOnlySpan<char> token)
    {
        foreach (var endpoint in _endpoints)
        {
            if (token.Length > endpoint.Prefix.Length && token.StartsWith(endpoint.Prefix, StringComparison.Ordinal))
            {
                return endpoint;
            }
        }

        return null;
    }

    /// <summary>Introspects a token that <see cref="Handles"/> (refused as malformed otherwise).</summary>
    /// <param name="token">The credential.</param>
    /// <param name="maxLength">Largest accepted credential.</param>
    /// <param name="cancellationToken">Stops this caller's wait; a shared call goes on for the others (and fills the cache).</param>
    public ValueTask<VerifyResult> IntrospectAsync(ReadOnlyMemory<char> token, int maxLength, CancellationToken cancellationToken = default)
    {
        var span = token.Span;
        if (span.Length > maxLength)
        {
            return new(VerifyResult.Fail(VerifyError.TokenTooLarge));
        }

        var endpoint = Match(span);
        if (endpoint is null || span.ContainsAnyExcept(TokenAlphabet))
        {
            return new(VerifyResult.Fail(VerifyError.MalformedToken));
        }

        var key = TokenHash.Of(span);
        if (_cache.TryGet(key, out var cached))
        {
            EdgeMetrics.IntrospectionCache(hit: true);
            return new(VerifyResult.Ok(cached));
        }

        EdgeMetrics.IntrospectionCache(hit: false);
        return WaitForSharedAsync(key, token, endpoint, cancellationToken);
    }

    private async ValueTask<VerifyResult> WaitForSharedAsync(TokenHash key, ReadOnlyMemory<char> token, IntrospectionEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (!_inflight.TryGetValue(key, out var shared))
        {
            var mine = new TaskCompletionSource<VerifyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            shared = _inflight.GetOrAdd(key, mine.Task);
            if (ReferenceEquals(shared, mine.Task))
            {
                _ = RunSharedAsync(key, token.ToString(), endpoint, mine);
            }
        }

        return await shared.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RunSharedAsync(TokenHash key, string token, IntrospectionEndpoint endpoint, TaskCompletionSource<VerifyResult> completion)
    {
        VerifyResult result;
        try
        {
            // Another call may have finished between this caller's cache miss and its claim on the key.
            result = _cache.TryGet(key, out var cached)
                ? VerifyResult.Ok(cached)
                : await CallAsync(key, token, endpoint).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.IntrospectionFailed(_logger, endpoint.Name, e.GetType().Name + ": " + e.Message);
            result = VerifyResult.Fail(VerifyError.IntrospectionUnavailable);
        }

        // The cache is filled before the key is released, so a newcomer finds one or the other.
        _inflight.TryRemove(new KeyValuePair<TokenHash, Task<VerifyResult>>(key, completion.Task));
        completion.TrySetResult(result);
    }

    private async Task<VerifyResult> CallAsync(TokenHash key, string token, IntrospectionEndpoint endpoint)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("token", token)]),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Authorization = endpoint.Authorization;
        byte[]? body;
        try
        {
            using var response = await endpoint.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _stopping.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return Unavailable(endpoint, $"HTTP {(int)response.StatusCode}");
            }

            body = response.Content.Headers.ContentLength > MaxResponseBytes
                ? null
                : await KeyFetcher.ReadCappedAsync(response.Content, MaxResponseBytes, _stopping.Token).ConfigureAwait(false);
            if (body is null)
            {
                return Unavailable(endpoint, $"answer larger than {MaxResponseBytes} bytes");
            }
        }
        catch (Exception e) when (KeyFetcher.FailureReason(e) is { } reason)
        {
            return Unavailable(endpoint, reason);
        }
        catch (OperationCanceledException)
        {
            return Unavailable(endpoint, _stopping.IsCancellationRequested ? "shutting down" : "timed out");
        }

        if (!IntrospectionResponse.TryRead(body, _claims, out var answer, out var error))
        {
            return Unavailable(endpoint, error!);
        }

        return Decide(key, answer, body, endpoint);
    }

    private VerifyResult Decide(TokenHash key, IntrospectionAnswer answer, byte[] body, IntrospectionEndpoint endpoint)
    {
        if (!answer.Active)
        {
            EdgeMetrics.Introspection("inactive");
            return VerifyResult.Fail(VerifyError.InactiveToken);
        }

        EdgeMetrics.Introspection("active");
        if (string.IsNullOrEmpty(answer.Subject))
        {
            // Nothing to tell the upstream about who this is: fail closed.
            Log.IntrospectionWithoutSubject(_logger, endpoint.Name);
            return VerifyResult.Fail(VerifyError.MissingClaim);
        }

        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!double.IsNaN(answer.ExpiresAt) && nowMs / 1000.0 >= answer.ExpiresAt + _claims.ClockSkewSeconds)
        {
            return VerifyResult.Fail(VerifyError.Expired);
        }

        if (_subjects is not null && !_subjects.Contains(answer.Subject))
        {
            Log.IntrospectionUnknownSubject(_logger, endpoint.Name);
            return VerifyResult.Fail(VerifyError.UnknownSubject);
        }

        var token = new VerifiedToken
        {
            Subject = answer.Subject,
            Issuer = answer.Issuer,
            ExpiresAt = answer.ExpiresAt,
            HeaderValues = answer.HeaderValues,
            Payload = body,
            Jti = answer.Jti,
            Scopes = answer.Scopes,
            PathScope = answer.PathScope,
            Introspected = true,
        };

        if (_ttlMs > 0)
        {
            // Compared as doubles: an absurd exp (1e300) must not overflow into a negative expiry.
            var expiresAt = nowMs + _ttlMs;
            if (!double.IsNaN(answer.ExpiresAt) && answer.ExpiresAt * 1000 < expiresAt)
            {
                expiresAt = (long)(answer.ExpiresAt * 1000);
            }

            _cache.Set(key, token, expiresAt);
        }

        return VerifyResult.Ok(token);
    }

    private VerifyResult Unavailable(IntrospectionEndpoint endpoint, string reason)
    {
        EdgeMetrics.Introspection("failed");
        Log.IntrospectionFailed(_logger, endpoint.Name, reason);
        return VerifyResult.Fail(VerifyError.IntrospectionUnavailable);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _owned?.Dispose();
        _stopping.Dispose();
    }
}
