using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeVerifier.Tokens;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace EdgeVerifier.Keys;

/// <summary>The keys read from one document, or why there are none.</summary>
public readonly record struct KeyParseResult(VerificationKey[]? Keys, string? Error)
{
    public bool Ok => Error is null;

    public static KeyParseResult Fail(string error) => new(null, error);
}

/// <summary>Turns JWK / JWKS documents into <see cref="VerificationKey"/>s, refusing anything unsafe.</summary>
/// <remarks>Runs at load time, never per request: exceptions from the JSON and crypto layers are caught here.</remarks>
public static class JwkReader
{
    /// <summary>A key document larger than this is refused before parsing.</summary>
    public const int MaxDocumentBytes = 256 * 1024;

    /// <summary>
    /// Parses a JWK or a JWK Set, given as JSON or as base64url-encoded JSON.
    /// </summary>
    /// <param name="content">The document bytes.</param>
    /// <param name="minRsaBits">Smallest RSA modulus accepted.</param>
    public static KeyParseResult Parse(ReadOnlySpan<byte> content, int minRsaBits = 2048)
    {
        if (content.Length > MaxDocumentBytes)
        {
            return KeyParseResult.Fail($"key document is larger than {MaxDocumentBytes} bytes");
        }

        if (!TryUnwrap(content, out var json))
        {
            return KeyParseResult.Fail("key document is neither JSON nor base64url-encoded JSON");
        }

        JwkSet? set;
        Jwk? single;
        try
        {
            set = JsonSerializer.Deserialize(json, JwkJsonContext.Default.JwkSet);
            single = set?.Keys is null ? JsonSerializer.Deserialize(json, JwkJsonContext.Default.Jwk) : null;
        }
        catch (JsonException e)
        {
            return KeyParseResult.Fail($"key document is not valid JSON ({e.Message})");
        }

        if (set?.Keys is { } keys)
        {
            var result = new List<VerificationKey>(keys.Length);
            foreach (var jwk in keys)
            {
                // "keys":[null] deserializes to a null element.
                var one = jwk is null ? KeyParseResult.Fail("a key is null, not a JWK object") : FromJwk(jwk, minRsaBits);
                if (!one.Ok)
                {
                    foreach (var done in result)
                    {
                        done.Dispose();
                    }

                    return KeyParseResult.Fail($"key '{jwk?.Kid}': {one.Error}");
                }

                result.Add(one.Keys![0]);
            }

            return new KeyParseResult([.. result], null);
        }

        return single is null ? KeyParseResult.Fail("key document is empty") : FromJwk(single, minRsaBits);
    }

    /// <summary>
    /// Parses a JWK Set from a registry. Keys this verifier cannot use (encryption keys,
    /// unsupported types, weak RSA) are skipped with a reason; a private key anywhere, or a
    /// document that is not a JWK Set, fails the whole set.
    /// </summary>
    public static KeyParseResult ParseSet(ReadOnlySpan<byte> content, int minRsaBits, out List<string> skipped)
    {
        skipped = [];
        if (content.Length > MaxDocumentBytes)
        {
            return KeyParseResult.Fail($"key set is larger than {MaxDocumentBytes} bytes");
        }

        JwkSet? set;
        try
        {
            set = JsonSerializer.Deserialize(content, JwkJsonContext.Default.JwkSet);
        }
        catch (JsonException e)
        {
            return KeyParseResult.Fail($"key set is not valid JSON ({e.Message})");
        }

        if (set?.Keys is not { } keys)
        {
            return KeyParseResult.Fail("the document is not a JWK Set (no \"keys\" array)");
        }

        var result = new List<VerificationKey>(keys.Length);
        foreach (var jwk in keys)
        {
            if (jwk is null)
            {
                return KeyParseResult.Fail("the key set holds a null entry");
            }

            if (jwk.HasPrivateParts)
            {
                return KeyParseResult.Fail($"key '{jwk.Kid}' is a private key where public keys are expected");
            }

            var one = FromJwk(jwk, minRsaBits);
            if (one.Ok)
            {
                result.Add(one.Keys![0]);
            }
            else
            {
                skipped.Add($"key '{jwk.Kid}': {one.Error}");
            }
        }

        return new KeyParseResult([.. result], null);
    }

    /// <summary>Builds a verification key from one public JWK (or an <c>oct</c> secret).</summary>
    public static KeyParseResult FromJwk(Jwk jwk, int minRsaBits = 2048)
    {
        if (jwk.Kid is not null && !HeaderReader.IsValidKid(jwk.Kid))
        {
            return KeyParseResult.Fail("kid is not of the form [A-Za-z0-9_-]{1,128}");
        }

        if (jwk.HasPrivateParts)
        {
            return KeyParseResult.Fail("a private key where a public key is expected");
        }

        var declared = SigningAlgorithm.Unknown;
        if (jwk.Alg is not null)
        {
            declared = SigningAlgorithms.Parse(jwk.Alg);
            if (declared == SigningAlgorithm.Unknown)
            {
                return KeyParseResult.Fail($"alg '{jwk.Alg}' is not a supported signature algorithm");
            }
        }

        if (jwk.Use is not null && jwk.Use != "sig")
        {
            return KeyParseResult.Fail($"use '{jwk.Use}' is not 'sig'");
        }

        if (jwk.KeyOps is not null && Array.IndexOf(jwk.KeyOps, "verify") < 0)
        {
            return KeyParseResult.Fail("key_ops does not include 'verify'");
        }

        // The JWK's own alg narrows the key to exactly that algorithm.
        var mask = declared == SigningAlgorithm.Unknown ? -1 : declared.Bit();
        try
        {
            var result = jwk.Kty switch
            {
                "RSA" => Rsa(jwk, minRsaBits, mask),
                "EC" => Ec(jwk, mask),
                "OKP" => Okp(jwk, mask),
                "oct" => Oct(jwk, mask),
                null => KeyParseResult.Fail("kty is missing"),
                _ => KeyParseResult.Fail($"kty '{jwk.Kty}' is not supported"),
            };

            if (result.Ok && result.Keys![0].Algorithms == 0)
            {
                result.Keys[0].Dispose();
                return KeyParseResult.Fail($"alg '{jwk.Alg}' does not agree with kty '{jwk.Kty}' (crv '{jwk.Crv}', key size)");
            }

            return result;
        }
        catch (CryptographicException e)
        {
            return KeyParseResult.Fail($"key material is invalid ({e.Message})");
        }
    }

    private static KeyParseResult Rsa(Jwk jwk, int minRsaBits, int mask)
    {
        if (!TryDecode(jwk.N, out var n) || !TryDecode(jwk.E, out var e) || n.Length == 0 || e.Length == 0)
        {
            return KeyParseResult.Fail("RSA key needs base64url 'n' and 'e'");
        }

        var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = n, Exponent = e });
        if (rsa.KeySize < minRsaBits)
        {
            var size = rsa.KeySize;
            rsa.Dispose();
            return KeyParseResult.Fail($"RSA modulus of {size} bits is below the minimum of {minRsaBits}");
        }

        var algorithms = SigningAlgorithm.RS256.Bit() | SigningAlgorithm.RS384.Bit() | SigningAlgorithm.RS512.Bit()
            | SigningAlgorithm.PS256.Bit() | SigningAlgorithm.PS384.Bit() | SigningAlgorithm.PS512.Bit();
        return new([VerificationKey.ForRsa(jwk.Kid, algorithms & mask, rsa)], null);
    }

    private static KeyParseResult Ec(Jwk jwk, int mask)
    {
        var (curve, size, alg) = jwk.Crv switch
        {
            "P-256" => (ECCurve.NamedCurves.nistP256, 32, SigningAlgorithm.ES256),
            "P-384" => (ECCurve.NamedCurves.nistP384, 48, SigningAlgorithm.ES384),
            "P-521" => (ECCurve.NamedCurves.nistP521, 66, SigningAlgorithm.ES512),
            _ => (default(ECCurve), 0, SigningAlgorithm.Unknown),
        };

        if (size == 0)
        {
            return KeyParseResult.Fail($"EC curve '{jwk.Crv}' is not supported");
        }

        if (!TryDecode(jwk.X, out var x) || !TryDecode(jwk.Y, out var y) || x.Length != size || y.Length != size)
        {
            return KeyParseResult.Fail($"EC key needs base64url 'x' and 'y' of {size} bytes");
        }

        // ImportParameters refuses a point that is not on the curve.
        var ecdsa = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y } });
        return new([VerificationKey.ForEcdsa(jwk.Kid, alg.Bit() & mask, ecdsa, size)], null);
    }

    private static KeyParseResult Okp(Jwk jwk, int mask)
    {
        if (jwk.Crv != "Ed25519")
        {
            return KeyParseResult.Fail($"OKP curve '{jwk.Crv}' is not a supported signature curve");
        }

        if (!TryDecode(jwk.X, out var x) || x.Length != Ed25519.PublicKeySize)
        {
            return KeyParseResult.Fail("Ed25519 key needs a base64url 'x' of 32 bytes");
        }

        var point = Ed25519.ValidatePublicKeyFullExport(x);
        return point is null
            ? KeyParseResult.Fail("Ed25519 public key is not a valid curve point")
            : new([VerificationKey.ForEd25519(jwk.Kid, SigningAlgorithm.EdDSA.Bit() & mask, point)], null);
    }

    private static KeyParseResult Oct(Jwk jwk, int mask)
    {
        if (!TryDecode(jwk.K, out var k) || k.Length < 32)
        {
            return KeyParseResult.Fail("oct key needs a base64url 'k' of at least 32 bytes");
        }

        // RFC 7518 §3.2: the key must be at least as long as the hash output.
        var algorithms = SigningAlgorithm.HS256.Bit()
            | (k.Length >= 48 ? SigningAlgorithm.HS384.Bit() : 0)
            | (k.Length >= 64 ? SigningAlgorithm.HS512.Bit() : 0);
        return new([VerificationKey.ForSecret(jwk.Kid, algorithms & mask, k)], null);
    }

    private static readonly System.Buffers.SearchValues<char> Base64UrlAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    internal static bool TryDecode(string? value, out byte[] bytes)
    {
        bytes = [];
        if (value is null || value.AsSpan().ContainsAnyExcept(Base64UrlAlphabet))
        {
            return false;
        }

        var buffer = new byte[Base64Url.GetMaxDecodedLength(value.Length)];
        if (Base64Url.DecodeFromChars(value, buffer, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        bytes = written == buffer.Length ? buffer : buffer[..written];
        return true;
    }

    private static bool TryUnwrap(ReadOnlySpan<byte> content, out byte[] json)
    {
        var trimmed = content.Trim(" \t\r\n"u8);
        if (!trimmed.IsEmpty && trimmed[0] == (byte)'{')
        {
            json = trimmed.ToArray();
            return true;
        }

        json = [];
        if (trimmed.IsEmpty || trimmed.ContainsAnyExcept(HeaderReader.KidAlphabet))
        {
            return false;
        }

        var buffer = new byte[Base64Url.GetMaxDecodedLength(trimmed.Length)];
        if (Base64Url.DecodeFromUtf8(trimmed, buffer, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        var decoded = buffer.AsSpan(0, written).Trim(" \t\r\n"u8);
        if (decoded.IsEmpty || decoded[0] != (byte)'{')
        {
            return false;
        }

        json = decoded.ToArray();
        return true;
    }
}
