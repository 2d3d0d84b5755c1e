using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Diagnostics;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Replay;

/// <summary>The outcome of the proof-of-possession and one-time checks for one request.</summary>
public readonly record struct GuardResult(VerifyError Error, DpopFailure Failure)
{
    public static GuardResult Ok => default;

    public bool IsValid => Error == VerifyError.None;
}

/// <summary>
/// DESIGN.md step 9 after the token itself verified: DPoP proofs and binding (RFC 9449), and
/// single-use token <c>jti</c>s, both against one <see cref="NonceRing"/>.
/// </summary>
public sealed class ReplayGuard : IDisposable
{
    private readonly NonceRing _ring;
    private readonly DpopProofVerifier _dpop;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly double _skewWarning;
    private readonly double _tokenSkew;
    private readonly ITimer _flush;
    private long _lastFullAt = long.MinValue;

    public ReplayGuard(NonceRing ring, DpopOptions dpop, bool oneTimeTokens, int tokenClockSkewSeconds, int allowedAlgorithms, int flushIntervalSeconds, TimeProvider time, ILogger logger)
    {
        _ring = ring;
        _time = time;
        _logger = logger;
        DpopEnabled = dpop.Enabled;
        OneTimeTokens = oneTimeTokens;
        _tokenSkew = tokenClockSkewSeconds;
        _skewWarning = dpop.SkewWarningSeconds > 0 ? dpop.SkewWarningSeconds : dpop.MaxAgeSeconds * 2 / 3.0;
        _dpop = new DpopProofVerifier(ring, time, TimeSpan.FromSeconds(dpop.MaxAgeSeconds), TimeSpan.FromSeconds(dpop.FutureSkewSeconds), allowedAlgorithms);
        _flush = time.CreateTimer(static state => ((NonceRing)state!).Flush(), ring, TimeSpan.FromSeconds(flushIntervalSeconds), TimeSpan.FromSeconds(flushIntervalSeconds));
        if (ring.Recovery is not null)
        {
            Log.ReplayRingCreated(logger, ring.Path, ring.Recovery, ring.CreatedAt.ToUnixTimeSeconds());
        }
    }

    public bool DpopEnabled { get; }

    public bool OneTimeTokens { get; }

    public NonceRing Ring => _ring;

    /// <summary>For <c>WWW-Authenticate: DPoP algs="…"</c>.</summary>
    public string DpopAlgorithms => _dpop.AlgorithmNames;

    /// <summary>Whether a ring-full refusal happened in the last 10 seconds (for <c>/readyz</c>).</summary>
    public bool RecentlyFull
    {
        get
        {
            // long.MinValue means never: subtracting it would overflow into "just now".
            var last = Volatile.Read(ref _lastFullAt);
            return last != long.MinValue && _time.GetTimestamp() - last < 10 * _time.TimestampFrequency;
        }
    }

    /// <summary>Checks what the token's verification left open for this request.</summary>
    /// <param name="token">The verified token.</param>
    /// <param name="scheme">How the token was presented.</param>
    /// <param name="accessToken">The token text.</param>
    /// <param name="proofs">The request's <c>DPoP</c> header values.</param>
    /// <param name="method">The method the client used (forwarded by the proxy), or null when the proxy's headers disagree.</param>
    /// <param name="url">The URL the client addressed (forwarded by the proxy), or null when unknown or ambiguous.</param>
    public GuardResult Check(VerifiedToken token, AuthScheme scheme, ReadOnlySpan<char> accessToken, Microsoft.Extensions.Primitives.StringValues proofs, string? method, string? url)
    {
        var bound = token.ConfirmationThumbprint;
        if (scheme == AuthScheme.DPoP)
        {
            var failure = CheckProof(bound, accessToken, proofs, method, url);
            if (failure != DpopFailure.None)
            {
                ReplayMetrics.Dpop(failure);
                return failure switch
                {
                    DpopFailure.Replayed => new(VerifyError.Replayed, failure),
                    DpopFailure.StoreFull => Full(failure),
                    _ => new(VerifyError.DpopInvalid, failure),
                };
            }

            ReplayMetrics.Dpop(DpopFailure.None);
        }
        else if (bound is not null)
        {
            // RFC 9449 §7.1: a DPoP-bound token presented as a bearer token is refused.
            return new(VerifyError.DpopRequired, DpopFailure.None);
        }

        return OneTimeTokens ? CheckOneTime(token, accessToken) : GuardResult.Ok;
    }

    private DpopFailure CheckProof(string? bound, ReadOnlySpan<char> accessToken, Microsoft.Extensions.Primitives.StringValues proofs, string? method, string? url)
    {
        if (!DpopEnabled)
        {
            return DpopFailure.Missing;
        }

        if (proofs.Count == 0 || string.IsNullOrEmpty(proofs[0]))
        {
            return DpopFailure.Missing;
        }

        if (proofs.Count > 1)
        {
            return DpopFailure.Multiple;
        }

        if (bound is null)
        {
            return DpopFailure.NotBound;
        }

        if (method is null)
        {
            return DpopFailure.Htm;
        }

        if (url is null)
        {
            return DpopFailure.Htu;
        }

        var check = _dpop.Check(proofs[0]!, method, url, accessToken);
        if (Math.Abs(check.SkewSeconds) > _skewWarning)
        {
            Log.ClientClockSkew(_logger, check.SkewSeconds);
            ReplayMetrics.ClockSkewWarning();
        }

        if (check.Failure != DpopFailure.None)
        {
            return check.Failure;
        }

        return string.Equals(check.Thumbprint, bound, StringComparison.Ordinal) ? DpopFailure.None : DpopFailure.WrongKey;
    }

    private GuardResult CheckOneTime(VerifiedToken token, ReadOnlySpan<char> accessToken)
    {
        // iat is needed too: the ring knows nothing used before it was created (a reset after
        // corruption, a lost file), so a token issued before then may already have been used.
        if (token.Jti is not { Length: > 0 and <= 256 } jti || !TryReadIssuedAt(accessToken, out var issuedAt))
        {
            return new(VerifyError.MissingClaim, DpopFailure.None);
        }

        if (issuedAt < _ring.CreatedAt.ToUnixTimeSeconds())
        {
            return new(VerifyError.Replayed, DpopFailure.None);
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();

        // Remembered until the token could no longer pass its exp check; without exp, for a day.
        var expiresAt = double.IsFinite(token.ExpiresAt) ? (long)Math.Ceiling(token.ExpiresAt + _tokenSkew) + 1 : now + 86400;
        var nonce = Encoding.UTF8.GetBytes("jti:" + token.Issuer + "\n" + jti);
        return _ring.TryAdd(nonce, expiresAt, now) switch
        {
            NonceResult.Added => GuardResult.Ok,
            NonceResult.Replayed => new(VerifyError.Replayed, DpopFailure.None),
            _ => Full(DpopFailure.None),
        };
    }

    /// <summary>The <c>iat</c> of a token that already verified (so well-formed, with at most one numeric iat).</summary>
    private static bool TryReadIssuedAt(ReadOnlySpan<char> token, out double issuedAt)
    {
        issuedAt = double.NaN;
        var dot1 = token.IndexOf('.');
        var dot2 = dot1 < 0 ? -1 : token[(dot1 + 1)..].IndexOf('.');
        if (dot2 < 0)
        {
            return false;
        }

        var segment = token.Slice(dot1 + 1, dot2);
        var buffer = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(segment.Length));
        try
        {
            if (Base64Url.DecodeFromChars(segment, buffer, out _, out var length) != OperationStatus.Done)
            {
                return false;
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(0, length));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isIat = reader.ValueTextEquals("iat"u8);
                reader.Read();
                if (isIat)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out issuedAt) && double.IsFinite(issuedAt);
                }

                reader.Skip();
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private GuardResult Full(DpopFailure failure)
    {
        Volatile.Write(ref _lastFullAt, _time.GetTimestamp());
        ReplayMetrics.RingFull();
        Log.ReplayRingFull(_logger, _ring.Path);
        return new(VerifyError.ReplayStoreFull, failure);
    }

    public void Dispose()
    {
        _flush.Dispose();
        _ring.Dispose();
    }
}
