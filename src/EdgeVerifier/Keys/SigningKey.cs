using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeVerifier.Tokens;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;
using Org.BouncyCastle.Security;

namespace EdgeVerifier.Keys;

/// <summary>A private (or secret) key that signs tokens: used by <c>keygen</c> and <c>sign</c>, never by the server.</summary>
public sealed class SigningKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ecdsa;
    private readonly byte[]? _secret;
    private readonly byte[]? _ed25519Private;

    private SigningKey(Jwk privateJwk, SigningAlgorithm alg, RSA? rsa, ECDsa? ecdsa, byte[]? secret, byte[]? ed25519Private)
    {
        PrivateJwk = privateJwk;
        Algorithm = alg;
        _rsa = rsa;
        _ecdsa = ecdsa;
        _secret = secret;
        _ed25519Private = ed25519Private;
    }

    public Jwk PrivateJwk { get; }

    public SigningAlgorithm Algorithm { get; }

    public string? Kid => PrivateJwk.Kid;

    /// <summary>The public half as a JWK (for <c>oct</c> keys, the secret itself: HS* has no public half).</summary>
    public Jwk PublicJwk => PrivateJwk with { D = null, P = null, Q = null, DP = null, DQ = null, QI = null };

    /// <summary>Makes a new key for <paramref name="alg"/> (RSA 2048 bits, the curve the alg names, or a hash-sized secret).</summary>
    public static SigningKey Generate(SigningAlgorithm alg, string kid)
    {
        switch (alg.Family())
        {
            case KeyFamily.Rsa:
            {
                var rsa = RSA.Create(2048);
                var p = rsa.ExportParameters(true);
                var jwk = new Jwk
                {
                    Kty = "RSA", Kid = kid, Alg = alg.Name(), Use = "sig",
                    N = B64(p.Modulus), E = B64(p.Exponent), D = B64(p.D), P = B64(p.P), Q = B64(p.Q),
                    DP = B64(p.DP), DQ = B64(p.DQ), QI = B64(p.InverseQ),
                };
                return new SigningKey(jwk, alg, rsa, null, null, null);
            }

            case KeyFamily.EllipticCurve:
            {
                var ecdsa = ECDsa.Create(CurveOf(alg));
                var p = ecdsa.ExportParameters(true);
                var jwk = new Jwk { Kty = "EC", Kid = kid, Alg = alg.Name(), Use = "sig", Crv = alg.Curve(), X = B64(p.Q.X), Y = B64(p.Q.Y), D = B64(p.D) };
                return new SigningKey(jwk, alg, null, ecdsa, null, null);
            }

            case KeyFamily.Okp:
            {
                var generator = new Ed25519KeyPairGenerator();
                generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
                var pair = generator.GenerateKeyPair();
                var d = ((Ed25519PrivateKeyParameters)pair.Private).GetEncoded();
                var x = ((Ed25519PublicKeyParameters)pair.Public).GetEncoded();
                var jwk = new Jwk { Kty = "OKP", Kid = kid, Alg = alg.Name(), Use = "sig", Crv = "Ed25519", X = B64(x), D = B64(d) };
                return new SigningKey(jwk, alg, null, null, null, d);
            }

            default:
            {
                var secret = RandomNumberGenerator.GetBytes(alg.Hash().Name switch { "SHA384" => 48, "SHA512" => 64, _ => 32 });
                var jwk = new Jwk { Kty = "oct", Kid = kid, Alg = alg.Name(), Use = "sig", K = B64(secret) };
                return new SigningKey(jwk, alg, null, null, secret, null);
            }
        }
    }

    /// <summary>Reads a private JWK. The algorithm is the JWK's <c>alg</c>, or <paramref name="alg"/> when given.</summary>
    public static SigningKey? FromJson(ReadOnlySpan<byte> json, SigningAlgorithm alg, out string? error)
    {
        Jwk? jwk;
        try
        {
            jwk = JsonSerializer.Deserialize(json, JwkJsonContext.Default.Jwk);
        }
        catch (JsonException e)
        {
            error = "not a JSON JWK: " + e.Message;
            return null;
        }

        if (jwk is null)
        {
            error = "empty key file";
            return null;
        }

        if (alg == SigningAlgorithm.Unknown)
        {
            alg = jwk.Alg is null ? SigningAlgorithm.Unknown : SigningAlgorithms.Parse(jwk.Alg);
        }

        if (alg == SigningAlgorithm.Unknown)
        {
            error = "the key has no supported alg; pass --alg";
            return null;
        }

        try
        {
            return Create(jwk, alg, out error);
        }
        catch (CryptographicException e)
        {
            error = "invalid key material: " + e.Message;
            return null;
        }
    }

    private static SigningKey? Create(Jwk jwk, SigningAlgorithm alg, out string? error)
    {
        error = null;
        switch (jwk.Kty, alg.Family())
        {
            case ("RSA", KeyFamily.Rsa) when Dec(jwk.D) is { } d:
            {
                var rsa = RSA.Create();
                rsa.ImportParameters(new RSAParameters
                {
                    Modulus = Dec(jwk.N), Exponent = Dec(jwk.E), D = d, P = Dec(jwk.P), Q = Dec(jwk.Q),
                    DP = Dec(jwk.DP), DQ = Dec(jwk.DQ), InverseQ = Dec(jwk.QI),
                });
                return new SigningKey(jwk, alg, rsa, null, null, null);
            }

            case ("EC", KeyFamily.EllipticCurve) when Dec(jwk.D) is { } d && jwk.Crv == alg.Curve():
            {
                var ecdsa = ECDsa.Create(new ECParameters { Curve = CurveOf(alg), D = d, Q = new ECPoint { X = Dec(jwk.X), Y = Dec(jwk.Y) } });
                return new SigningKey(jwk, alg, null, ecdsa, null, null);
            }

            case ("OKP", KeyFamily.Okp) when Dec(jwk.D) is { Length: 32 } d && jwk.Crv == "Ed25519":
                return new SigningKey(jwk, alg, null, null, null, d);

            case ("oct", KeyFamily.Symmetric) when Dec(jwk.K) is { Length: >= 32 } k:
                return new SigningKey(jwk, alg, null, null, k, null);

            default:
                error = $"a private {jwk.Kty} key for {alg.Name()} is needed (kty/crv/alg disagree, or no private part)";
                return null;
        }
    }

    /// <summary>Signs the JWS signing input, producing the raw signature (R||S for ECDSA).</summary>
    public byte[] Sign(ReadOnlySpan<byte> input) => Algorithm switch
    {
        SigningAlgorithm.RS256 or SigningAlgorithm.RS384 or SigningAlgorithm.RS512 => _rsa!.SignData(input.ToArray(), Algorithm.Hash(), RSASignaturePadding.Pkcs1),
        SigningAlgorithm.PS256 or SigningAlgorithm.PS384 or SigningAlgorithm.PS512 => _rsa!.SignData(input.ToArray(), Algorithm.Hash(), RSASignaturePadding.Pss),
        SigningAlgorithm.ES256 or SigningAlgorithm.ES384 or SigningAlgorithm.ES512 => _ecdsa!.SignData(input.ToArray(), Algorithm.Hash(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        SigningAlgorithm.EdDSA => SignEd25519(input),
        SigningAlgorithm.HS256 => HMACSHA256.HashData(_secret!, input),
        SigningAlgorithm.HS384 => HMACSHA384.HashData(_secret!, input),
        SigningAlgorithm.HS512 => HMACSHA512.HashData(_secret!, input),
        _ => throw new InvalidOperationException("no algorithm"),
    };

    private byte[] SignEd25519(ReadOnlySpan<byte> input)
    {
        var signature = new byte[Ed25519.SignatureSize];
        new Ed25519PrivateKeyParameters(_ed25519Private!).Sign(Ed25519.Algorithm.Ed25519, null, input.ToArray(), 0, input.Length, signature, 0);
        return signature;
    }

    private static ECCurve CurveOf(SigningAlgorithm alg) => alg switch
    {
        SigningAlgorithm.ES256 => ECCurve.NamedCurves.nistP256,
        SigningAlgorithm.ES384 => ECCurve.NamedCurves.nistP384,
        _ => ECCurve.NamedCurves.nistP521,
    };

    private static string? B64(byte[]? bytes) => bytes is null ? null : Base64Url.EncodeToString(bytes);

    private static byte[]? Dec(string? value) => JwkReader.TryDecode(value, out var bytes) ? bytes : null;

    public void Dispose()
    {
        _rsa?.Dispose();
        _ecdsa?.Dispose();
    }
}
