using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Replay;

/// <summary>Why a DPoP proof was refused; each maps to a fixed, client-safe description.</summary>
public enum DpopFailure : byte
{
    None,
    Missing,
    Multiple,
    Malformed,
    Typ,
    Alg,
    Jwk,
    Signature,
    Htm,
    Htu,
    Iat,
    Ath,
    Jti,
    Replayed,
    StoreFull,
    NotBound,
    WrongKey,
}

/// <summary>Descriptions for <see cref="DpopFailure"/> (RFC 9449 §7.1 error_description).</summary>
public static class DpopFailures
{
    public static string Describe(this DpopFailure failure) => failure switch
    {
        DpopFailure.Missing => "the request has no DPoP proof header",
        DpopFailure.Multiple => "the request has more than one DPoP proof header",
        DpopFailure.Malformed => "the DPoP proof is not a well-formed compact JWS",
        DpopFailure.Typ => "the DPoP proof's typ is not dpop+jwt",
        DpopFailure.Alg => "the DPoP proof's alg is not an allowed asymmetric algorithm",
        DpopFailure.Jwk => "the DPoP proof's jwk is missing, private, or unusable with its alg",
        DpopFailure.Signature => "the DPoP proof's signature does not verify",
        DpopFailure.Htm => "the DPoP proof's htm does not match the request method",
        DpopFailure.Htu => "the DPoP proof's htu does not match the request URL",
        DpopFailure.Iat => "the DPoP proof's iat is outside the accepted window",
        DpopFailure.Ath => "the DPoP proof's ath does not match the access token",
        DpopFailure.Jti => "the DPoP proof has no usable jti",
        DpopFailure.Replayed => "the DPoP proof was already used",
        DpopFailure.StoreFull => "the replay store is full; retry later",
        DpopFailure.NotBound => "the access token is not bound to a DPoP key (no cnf.jkt)",
        DpopFailure.WrongKey => "the DPoP proof's key is not the key the access token is bound to",
        _ => string.Empty,
    };
}

/// <summary>What a proof check gave: the failure, or the proof key's RFC 7638 thumbprint and measured clock skew.</summary>
public readonly record struct DpopCheck(DpopFailure Failure, string? Thumbprint, double SkewSeconds);

/// <summary>
/// Checks a DPoP proof (RFC 9449 §4.3): <c>typ</c> <c>dpop+jwt</c>; an asymmetric <c>alg</c>; an
/// embedded public <c>jwk</c> (no private members) that verifies the signature; <c>htm</c> and
/// <c>htu</c> equal to the request's method and URL (query and fragment ignored, URLs compared
/// after RFC 3986 normalisation); <c>iat</c> no older than the window and no further in the future
/// than the skew; <c>ath</c> the SHA-256 of the access token; a <c>jti</c> never seen before (the
/// <see cref="NonceRing"/>).
/// </summary>
public sealed class DpopProofVerifier
{
    public const int MaxJtiLength = 256;

    private readonly NonceRing _ring;
    private readonly TimeProvider _time;
    private readonly int _algorithms;
    private readonly double _maxAgeSeconds;
    private readonly double _futureSkewSeconds;
    private readonly double _notBefore;

    /// <param name="ring">Where proof jtis are remembered.</param>
    /// <param name="time">The clock.</param>
    /// <param name="maxAge">How old a proof's iat may be (and how long its jti is remembered).</param>
    /// <param name="futureSkew">How far in the future a proof's iat may be.</param>
    /// <param name="algorithms">Allowed algorithms (bit mask); symmetric ones are always removed.</param>
    public DpopProofVerifier(NonceRing ring, TimeProvider time, TimeSpan maxAge, TimeSpan futureSkew, int algorithms)
    {
        _ring = ring;
        _time = time;
        _maxAgeSeconds = maxAge.TotalSeconds;
        _futureSkewSeconds = futureSkew.TotalSeconds;

        // A ring knows nothing of proofs used before it was created: only proofs issued after it are
        // accepted. Also after a restart on that ring (Recovery null), or a restart soon after a reset
        // would reopen the window for proofs the lost ring had seen.
        _notBefore = ring.CreatedAt.ToUnixTimeSeconds();
        _algorithms = algorithms & ~(SigningAlgorithm.HS256.Bit() | SigningAlgorithm.HS384.Bit() | SigningAlgorithm.HS512.Bit());
        var names = new List<string>();
        foreach (var alg in SigningAlgorithms.All)
        {
            if ((_algorithms & alg.Bit()) != 0)
            {
                names.Add(alg.Name());
            }
        }

        AlgorithmNames = string.Join(' ', names);
    }

    /// <summary>For the <c>algs</c> parameter of the <c>WWW-Authenticate: DPoP</c> challenge.</summary>
    public string AlgorithmNames { get; }

    public TimeSpan MaxAge => TimeSpan.FromSeconds(_maxAgeSeconds);

    /// <summary>Checks <paramref name="proof"/> for a request and records its jti.</summary>
    /// <param name="proof">The DPoP header value.</param>
    /// <param name="method">The request method as the client sent it.</param>
    /// <param name="url">The request URL as the client addressed it.</param>
    /// <param name="accessToken">The access token the proof accompanies.</param>
    public DpopCheck Check(string proof, string method, string url, ReadOnlySpan<char> accessToken)
    {
        if (proof.Length > 8192 || TokenVerifier.Split(proof, 8192, out var dot1, out var dot2) != VerifyError.None)
        {
            return new(DpopFailure.Malformed, null, 0);
        }

        // Decoded header + signing input + signature + payload: under 2.5 bytes per character.
        byte[]? rented = null;
        var needed = proof.Length * 3;
        var buffer = needed <= 4096 ? stackalloc byte[4096] : (rented = ArrayPool<byte>.Shared.Rent(needed));
        try
        {
            if (Base64Url.DecodeFromChars(proof.AsSpan(0, dot1), buffer, out _, out var headerLength) != OperationStatus.Done)
            {
                return new(DpopFailure.Malformed, null, 0);
            }

            var failure = ReadHeader(buffer[..headerLength], out var alg, out var jwkJson);
            if (failure != DpopFailure.None)
            {
                return new(failure, null, 0);
            }

            Jwk? jwk;
            try
            {
                jwk = JsonSerializer.Deserialize(jwkJson, JwkJsonContext.Default.Jwk);
            }
            catch (JsonException)
            {
                return new(DpopFailure.Jwk, null, 0);
            }

            var parsed = jwk is null || jwk.Kty == "oct" ? default : JwkReader.FromJwk(jwk with { Kid = null }, minRsaBits: 2048);
            if (!parsed.Ok || parsed.Keys is null || !parsed.Keys[0].Permits(alg))
            {
                return new(DpopFailure.Jwk, null, 0);
            }

            using var key = parsed.Keys[0];
            var signingInput = buffer.Slice(headerLength, dot2);
            Encoding.ASCII.GetBytes(proof.AsSpan(0, dot2), signingInput);
            var rest = buffer[(headerLength + dot2)..];
            if (Base64Url.DecodeFromChars(proof.AsSpan(dot2 + 1), rest, out _, out var signatureLength) != OperationStatus.Done)
            {
                return new(DpopFailure.Malformed, null, 0);
            }

            if (!key.Verify(alg, signingInput, rest[..signatureLength]))
            {
                return new(DpopFailure.Signature, null, 0);
            }

            var payload = rest[signatureLength..];
            if (Base64Url.DecodeFromChars(proof.AsSpan(dot1 + 1, dot2 - dot1 - 1), payload, out _, out var payloadLength) != OperationStatus.Done)
            {
                return new(DpopFailure.Malformed, null, 0);
            }

            failure = ReadPayload(payload[..payloadLength], out var claims);
            if (failure != DpopFailure.None)
            {
                return new(failure, null, 0);
            }

            if (!string.Equals(claims.Htm, method, StringComparison.Ordinal))
            {
                return new(DpopFailure.Htm, null, 0);
            }

            if (NormaliseUrl(claims.Htu) is not { } htu || NormaliseUrl(url) is not { } requestUrl || !string.Equals(htu, requestUrl, StringComparison.Ordinal))
            {
                return new(DpopFailure.Htu, null, 0);
            }

            var now = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
            var skew = claims.Iat - now;
            if (claims.Iat < now - _maxAgeSeconds || claims.Iat > now + _futureSkewSeconds || claims.Iat < _notBefore)
            {
                return new(DpopFailure.Iat, null, skew);
            }

            if (claims.Ath is null || !string.Equals(claims.Ath, AccessTokenHash(accessToken), StringComparison.Ordinal))
            {
                return new(DpopFailure.Ath, null, skew);
            }

            var thumbprint = Thumbprint(jwk!);

            // Remembered until the proof could no longer pass the iat check anyway.
            var nonce = Encoding.UTF8.GetBytes("dpop:" + thumbprint + ":" + claims.Jti);
            var expiresAt = (long)Math.Ceiling(claims.Iat + _maxAgeSeconds + _futureSkewSeconds) + 1;
            return _ring.TryAdd(nonce, expiresAt, (long)now) switch
            {
                NonceResult.Added => new(DpopFailure.None, thumbprint, skew),
                NonceResult.Replayed => new(DpopFailure.Replayed, thumbprint, skew),
                _ => new(DpopFailure.StoreFull, thumbprint, skew),
            };
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>RFC 9449 §4.2 <c>ath</c>: base64url(SHA-256(ASCII(access token))).</summary>
    public static string AccessTokenHash(ReadOnlySpan<char> accessToken)
    {
        var bytes = Encoding.ASCII.GetBytes(accessToken.ToArray());
        return Base64Url.EncodeToString(SHA256.HashData(bytes));
    }

    /// <summary>RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, base64url.</summary>
    public static string Thumbprint(Jwk jwk)
    {
        // Members were validated as base64url / known curve names by JwkReader: no escaping needed.
        var canonical = jwk.Kty switch
        {
            "EC" => $"{{\"crv\":\"{jwk.Crv}\",\"kty\":\"EC\",\"x\":\"{jwk.X}\",\"y\":\"{jwk.Y}\"}}",
            "RSA" => $"{{\"e\":\"{jwk.E}\",\"kty\":\"RSA\",\"n\":\"{jwk.N}\"}}",
            "OKP" => $"{{\"crv\":\"{jwk.Crv}\",\"kty\":\"OKP\",\"x\":\"{jwk.X}\"}}",
            _ => throw new ArgumentException("no thumbprint for kty " + jwk.Kty, nameof(jwk)),
        };
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>
    /// RFC 9449 §4.3 / RFC 3986 §6: scheme and host lower-cased, default port dropped, dot segments
    /// removed, query and fragment ignored. Null when not an absolute http(s) URL.
    /// </summary>
    public static string? NormaliseUrl(string? url)
    {
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        return uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
    }

    private DpopFailure ReadHeader(ReadOnlySpan<byte> json, out SigningAlgorithm alg, out byte[] jwk)
    {
        alg = SigningAlgorithm.Unknown;
        jwk = [];
        var typOk = false;
        var seen = 0;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return DpopFailure.Malformed;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = reader.ValueTextEquals("typ"u8) ? 1 : reader.ValueTextEquals("alg"u8) ? 2 : reader.ValueTextEquals("jwk"u8) ? 4 : reader.ValueTextEquals("crit"u8) ? 8 : 0;
                if ((seen & member) != 0)
                {
                    return DpopFailure.Malformed;
                }

                seen |= member;
                reader.Read();
                switch (member)
                {
                    case 1:
                        typOk = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && Ascii.EqualsIgnoreCase(reader.ValueSpan, "dpop+jwt"u8);
                        break;
                    case 2:
                        alg = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped ? SigningAlgorithms.Parse(reader.ValueSpan) : SigningAlgorithm.Unknown;
                        break;
                    case 4:
                        if (reader.TokenType != JsonTokenType.StartObject)
                        {
                            return DpopFailure.Jwk;
                        }

                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        jwk = json[start..(int)reader.BytesConsumed].ToArray();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return DpopFailure.Malformed;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return DpopFailure.Malformed;
        }

        if ((seen & 8) != 0)
        {
            return DpopFailure.Malformed; // no crit extension is understood
        }

        if (!typOk)
        {
            return DpopFailure.Typ;
        }

        if (alg == SigningAlgorithm.Unknown || (_algorithms & alg.Bit()) == 0)
        {
            return DpopFailure.Alg;
        }

        return jwk.Length == 0 ? DpopFailure.Jwk : DpopFailure.None;
    }

    private struct ProofClaims
    {
        public string? Jti;
        public string? Htm;
        public string? Htu;
        public string? Ath;
        public double Iat;
    }

    private static DpopFailure ReadPayload(ReadOnlySpan<byte> json, out ProofClaims claims)
    {
        claims = default;
        claims.Iat = double.NaN;
        var seen = 0;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return DpopFailure.Malformed;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = reader.ValueTextEquals("jti"u8) ? 1 : reader.ValueTextEquals("htm"u8) ? 2 : reader.ValueTextEquals("htu"u8) ? 4 : reader.ValueTextEquals("iat"u8) ? 8 : reader.ValueTextEquals("ath"u8) ? 16 : 0;
                if ((seen & member) != 0)
                {
                    return DpopFailure.Malformed;
                }

                seen |= member;
                reader.Read();
                if (member == 8)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out claims.Iat) || !double.IsFinite(claims.Iat))
                    {
                        return DpopFailure.Iat;
                    }

                    continue;
                }

                if (member == 0)
                {
                    reader.Skip();
                    continue;
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    return DpopFailure.Malformed;
                }

                var value = reader.GetString();
                switch (member)
                {
                    case 1: claims.Jti = value; break;
                    case 2: claims.Htm = value; break;
                    case 4: claims.Htu = value; break;
                    default: claims.Ath = value; break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return DpopFailure.Malformed;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return DpopFailure.Malformed;
        }

        if (claims.Jti is not { Length: > 0 and <= MaxJtiLength })
        {
            return DpopFailure.Jti;
        }

        if (claims.Htm is null)
        {
            return DpopFailure.Htm;
        }

        if (claims.Htu is null)
        {
            return DpopFailure.Htu;
        }

        return double.IsNaN(claims.Iat) ? DpopFailure.Iat : DpopFailure.None;
    }
}
