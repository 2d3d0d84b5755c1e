using System.Buffers;
using System.Buffers.Text;
using System.Text;
using EdgeVerifier.Keys;

namespace EdgeVerifier.Tokens;

/// <summary>
/// The JWT hot path (DESIGN.md steps 3, 5–7): split, decode the header into a stack
/// buffer, bind alg to key, verify the signature, validate claims. Expected failures are
/// <see cref="VerifyError"/> values; a cached key completes synchronously.
/// </summary>
public sealed class TokenVerifier
{
    private const int StackLimit = 2048;

    /// <summary>The compact-JWS alphabet: base64url plus the two dots.</summary>
    private static readonly SearchValues<char> CompactAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private readonly KeyResolver _keys;
    private readonly TimeProvider _time;
    private readonly VerifiedTokenCache? _cache;
    private readonly RefusedTokenCache? _refused;

    /// <param name="policy">What to enforce.</param>
    /// <param name="keys">Where keys come from.</param>
    /// <param name="time">The clock.</param>
    /// <param name="cache">Earlier results by exact token text; null to verify every token in full.</param>
    /// <param name="refused">Earlier deterministic refusals by exact token text; null to check every bad token in full.</param>
    public TokenVerifier(VerifierPolicy policy, KeyResolver keys, TimeProvider time, VerifiedTokenCache? cache = null, RefusedTokenCache? refused = null)
    {
        Policy = policy;
        _keys = keys;
        _time = time;
        _cache = cache;
        _refused = refused;
    }

    public VerifiedTokenCache? Cache => _cache;

    public RefusedTokenCache? Refused => _refused;

    public VerifierPolicy Policy { get; }

    /// <summary>Verifies a compact JWS.</summary>
    /// <param name="token">The token text (a slice of the header value is fine: nothing is copied on a cache hit).</param>
    /// <param name="includePayload">Keep the decoded payload in the result (for <c>/v1/verify</c>).</param>
    /// <param name="cancellationToken">Only abandons this caller's wait for a key; a shared fetch goes on.</param>
    public ValueTask<VerifyResult> VerifyAsync(ReadOnlyMemory<char> token, bool includePayload = false, CancellationToken cancellationToken = default)
    {
        var span = token.Span;
        if (_cache is not null && !includePayload && span.Length <= Policy.MaxTokenLength
            && _cache.TryGet(span, Now(), _keys, out var cached))
        {
            Diagnostics.EdgeMetrics.TokenCache(hit: true);
            return new(VerifyResult.Ok(cached!));
        }

        var error = Split(span, Policy.MaxTokenLength, out var dot1, out var dot2);
        if (error != VerifyError.None)
        {
            return new(error);
        }

        Span<char> kid = stackalloc char[HeaderReader.MaxKidLength];
        error = ReadHeader(span[..dot1], kid, out var header);
        if (error != VerifyError.None)
        {
            return new(error);
        }

        // Only tokens that got this far are ever refused for their key: the structural and header checks
        // above cost less than hashing the token for this lookup.
        if (_refused is not null && _refused.TryGet(span, Now(), _keys, out var refusal))
        {
            Diagnostics.EdgeMetrics.TokenCacheRefusal();
            return new(refusal);
        }

        KeyLookup lookup;
        if (header.Kid is KidState.Absent or KidState.Empty)
        {
            lookup = _keys.GetDefault();
            if (lookup.Status == KeyLookupStatus.NotFound)
            {
                return new(VerifyError.MissingKid);
            }
        }
        else
        {
            lookup = _keys.TryGetCached(kid[..header.KidLength]);
        }

        Diagnostics.EdgeMetrics.KeyLookup(lookup.Status);
        switch (lookup.Status)
        {
            case KeyLookupStatus.Found:
                return new(Complete(span, dot1, dot2, header.Alg, lookup.Key!, null, kid[..header.KidLength], includePayload));
            case KeyLookupStatus.Miss:
                return ResolveThenComplete(token, dot1, dot2, header.Alg, new string(kid[..header.KidLength]), includePayload, cancellationToken);
            case KeyLookupStatus.NotFound:
                return new(VerifyResult.Fail(VerifyError.UnknownKid, new string(kid[..header.KidLength])));
            default:
                return new(VerifyResult.Fail(VerifyError.KeySourceUnavailable, new string(kid[..header.KidLength])));
        }
    }

    private double Now() => _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Structure only: size, alphabet, exactly three non-empty segments.</summary>
    public static VerifyError Split(ReadOnlySpan<char> token, int maxLength, out int dot1, out int dot2)
    {
        dot1 = dot2 = -1;
        if (token.IsEmpty)
        {
            return VerifyError.MissingToken;
        }

        if (token.Length > maxLength)
        {
            return VerifyError.TokenTooLarge;
        }

        if (token.ContainsAnyExcept(CompactAlphabet))
        {
            return VerifyError.MalformedToken;
        }

        dot1 = token.IndexOf('.');
        if (dot1 <= 0)
        {
            return VerifyError.MalformedToken;
        }

        var rest = token[(dot1 + 1)..].IndexOf('.');
        if (rest <= 0)
        {
            return VerifyError.MalformedToken;
        }

        dot2 = dot1 + 1 + rest;
        if (dot2 == token.Length - 1 || token[(dot2 + 1)..].Contains('.'))
        {
            // An empty signature (alg none) or a fourth segment (JWE): neither is a signed JWS.
            return VerifyError.MalformedToken;
        }

        return IsCanonical(token[..dot1]) && IsCanonical(token[(dot1 + 1)..dot2]) && IsCanonical(token[(dot2 + 1)..])
            ? VerifyError.None
            : VerifyError.MalformedToken;
    }

    /// <summary>
    /// Unpadded base64url whose final character carries no stray bits (RFC 4648 §3.5), so one
    /// byte string has exactly one token text: the text is what caches and replay checks key on.
    /// </summary>
    internal static bool IsCanonical(ReadOnlySpan<char> segment)
    {
        var unusedBits = (segment.Length % 4) switch
        {
            0 => 0,
            2 => 4,
            3 => 2,
            _ => -1, // one leftover character cannot encode a byte
        };
        if (unusedBits <= 0)
        {
            return unusedBits == 0;
        }

        var c = segment[^1];
        var value = c switch
        {
            >= 'A' and <= 'Z' => c - 'A',
            >= 'a' and <= 'z' => c - 'a' + 26,
            >= '0' and <= '9' => c - '0' + 52,
            '-' => 62,
            _ => 63,
        };
        return (value & ((1 << unusedBits) - 1)) == 0;
    }

    /// <summary>Decodes and reads the header segment; allocation-free for headers up to 2 KiB.</summary>
    public VerifyError ReadHeader(ReadOnlySpan<char> segment, Span<char> kid, out JoseHeader header)
    {
        header = default;
        var max = Base64Url.GetMaxDecodedLength(segment.Length);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            if (Base64Url.DecodeFromChars(segment, buffer, out _, out var written) != OperationStatus.Done)
            {
                return VerifyError.MalformedToken;
            }

            var error = HeaderReader.Read(buffer[..written], Policy.Types, kid, out header);
            if (error == VerifyError.None && (Policy.AllowedAlgorithms & header.Alg.Bit()) == 0)
            {
                return VerifyError.UnsupportedAlg;
            }

            return error;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private async ValueTask<VerifyResult> ResolveThenComplete(ReadOnlyMemory<char> token, int dot1, int dot2, SigningAlgorithm alg, string kid, bool includePayload, CancellationToken cancellationToken)
    {
        var lookup = await _keys.ResolveAsync(kid, cancellationToken).ConfigureAwait(false);
        return lookup.Status switch
        {
            KeyLookupStatus.Found => Complete(token.Span, dot1, dot2, alg, lookup.Key!, kid, kid, includePayload),
            KeyLookupStatus.NotFound => VerifyResult.Fail(VerifyError.UnknownKid, kid),
            _ => VerifyResult.Fail(VerifyError.KeySourceUnavailable, kid),
        };
    }

    /// <summary>A refusal decided by this token and this key alone, remembered when the refusal cache keeps its kind.</summary>
    private VerifyResult Refuse(ReadOnlySpan<char> token, VerifyError error, string? kid, ReadOnlySpan<char> headerKid, VerificationKey key, double now = double.NaN)
    {
        if (_refused is not null && RefusedTokenCache.Keeps(error))
        {
            _refused.Add(token, error, kid, LookupKid(headerKid, kid, key), key, double.IsNaN(now) ? Now() : now);
        }

        return VerifyResult.Fail(error, kid);
    }

    /// <summary>
    /// The kid a cache hit must resolve again, exactly as <see cref="VerifyAsync"/> resolved it: the
    /// header's kid, or null when the header had none (the default key).
    /// </summary>
    private static string? LookupKid(ReadOnlySpan<char> headerKid, string? resultKid, VerificationKey key) =>
        headerKid.IsEmpty ? null
        : headerKid.SequenceEqual(resultKid) ? resultKid
        : headerKid.SequenceEqual(key.Kid) ? key.Kid
        : headerKid.ToString();

    /// <summary>
    /// Steps 6–7 with the key in hand. <c>kid</c> is the kid as a string when the caller already has
    /// one (the resolve path), null on the fast path; <c>headerKid</c> is the header's kid, empty when
    /// it had none and the default key was used.
    /// </summary>
    private VerifyResult Complete(ReadOnlySpan<char> token, int dot1, int dot2, SigningAlgorithm alg, VerificationKey key, string? kid, ReadOnlySpan<char> headerKid, bool includePayload)
    {
        if (!key.Permits(alg))
        {
            return Refuse(token, VerifyError.KeyAlgMismatch, kid ?? key.Kid, headerKid, key);
        }

        var signingInput = token[..dot2];
        var signature = token[(dot2 + 1)..];
        var payload = token[(dot1 + 1)..dot2];
        var inputLength = signingInput.Length;
        var signatureMax = Base64Url.GetMaxDecodedLength(signature.Length);
        var payloadMax = Base64Url.GetMaxDecodedLength(payload.Length);
        var needed = inputLength + signatureMax + payloadMax;

        byte[]? rented = null;
        var buffer = needed <= StackLimit * 2 ? stackalloc byte[StackLimit * 2] : (rented = ArrayPool<byte>.Shared.Rent(needed));
        try
        {
            var inputBytes = buffer[..inputLength];
            Encoding.ASCII.GetBytes(signingInput, inputBytes);
            var signatureBytes = buffer.Slice(inputLength, signatureMax);
            var payloadBytes = buffer.Slice(inputLength + signatureMax, payloadMax);
            if (Base64Url.DecodeFromChars(signature, signatureBytes, out _, out var signatureLength) != OperationStatus.Done
                || Base64Url.DecodeFromChars(payload, payloadBytes, out _, out var payloadLength) != OperationStatus.Done)
            {
                return Refuse(token, VerifyError.MalformedToken, kid ?? key.Kid, headerKid, key);
            }

            // The signature is checked before any claim, so a forged token only ever learns bad_signature.
            if (!key.Verify(alg, inputBytes, signatureBytes[..signatureLength]))
            {
                return Refuse(token, VerifyError.BadSignature, kid ?? key.Kid, headerKid, key);
            }

            var json = payloadBytes[..payloadLength];
            var now = Now();
            var error = ClaimsReader.Read(json, Policy.Claims, now, out var claims);
            if (error != VerifyError.None)
            {
                return Refuse(token, error, kid ?? key.Kid, headerKid, key, now);
            }

            var verified = new VerifiedToken
            {
                Subject = claims.Subject,
                Issuer = claims.Issuer,
                Kid = kid ?? key.Kid,
                Algorithm = alg,
                Jti = claims.Jti,
                ConfirmationThumbprint = claims.Jkt,
                ExpiresAt = claims.ExpiresAt,
                NotBefore = claims.NotBefore,
                HeaderValues = claims.HeaderValues,
                Payload = includePayload ? json.ToArray() : null,
                Scopes = claims.Scopes,
                PathScope = claims.PathScope,
            };
            if (_cache is not null && !includePayload)
            {
                Diagnostics.EdgeMetrics.TokenCache(hit: false);
                _cache.Add(token, verified, key, LookupKid(headerKid, verified.Kid, key), now);
            }

            return VerifyResult.Ok(verified);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
