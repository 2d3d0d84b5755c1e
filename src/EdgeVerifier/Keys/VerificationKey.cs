using System.Security.Cryptography;
using EdgeVerifier.Tokens;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace EdgeVerifier.Keys;

/// <summary>
/// A public (or, for HS*, secret) key ready to verify signatures, with the set of
/// algorithms it may be used with fixed at load time (DESIGN.md step 3: alg must agree
/// with kty, crv and the JWK's own alg).
/// </summary>
/// <remarks>
/// RSA and ECDsa instances are shared across threads for verification only: on Linux each
/// call builds its own OpenSSL context over the shared, read-only EVP_PKEY.
/// </remarks>
public sealed class VerificationKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ecdsa;
    private readonly byte[]? _secret;
    private readonly Ed25519.PublicPoint? _ed25519;
    private readonly int _ecFieldBytes;

    private VerificationKey(string? kid, KeyFamily family, int algorithms, RSA? rsa, ECDsa? ecdsa, byte[]? secret, Ed25519.PublicPoint? ed25519, int ecFieldBytes)
    {
        Kid = kid;
        Family = family;
        Algorithms = algorithms;
        _rsa = rsa;
        _ecdsa = ecdsa;
        _secret = secret;
        _ed25519 = ed25519;
        _ecFieldBytes = ecFieldBytes;
    }

    public string? Kid { get; }

    public KeyFamily Family { get; }

    /// <summary>Bit mask of <see cref="SigningAlgorithm"/> values this key verifies.</summary>
    public int Algorithms { get; }

    public bool Permits(SigningAlgorithm alg) => (Algorithms & alg.Bit()) != 0;

    internal static VerificationKey ForRsa(string? kid, int algorithms, RSA rsa) =>
        new(kid, KeyFamily.Rsa, algorithms, rsa, null, null, null, 0);

    internal static VerificationKey ForEcdsa(string? kid, int algorithms, ECDsa ecdsa, int fieldBytes) =>
        new(kid, KeyFamily.EllipticCurve, algorithms, null, ecdsa, null, null, fieldBytes);

    internal static VerificationKey ForEd25519(string? kid, int algorithms, Ed25519.PublicPoint point) =>
        new(kid, KeyFamily.Okp, algorithms, null, null, null, point, 0);

    internal static VerificationKey ForSecret(string? kid, int algorithms, byte[] secret) =>
        new(kid, KeyFamily.Symmetric, algorithms, null, null, secret, null, 0);

    /// <summary>
    /// Verifies <paramref name="signature"/> over <paramref name="signingInput"/>. The caller has
    /// already checked <see cref="Permits"/>; a wrong-length signature is simply false.
    /// </summary>
    public bool Verify(SigningAlgorithm alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        switch (alg)
        {
            case SigningAlgorithm.RS256 or SigningAlgorithm.RS384 or SigningAlgorithm.RS512:
                return _rsa!.VerifyData(signingInput, signature, alg.Hash(), RSASignaturePadding.Pkcs1);
            case SigningAlgorithm.PS256 or SigningAlgorithm.PS384 or SigningAlgorithm.PS512:
                return _rsa!.VerifyData(signingInput, signature, alg.Hash(), RSASignaturePadding.Pss);
            case SigningAlgorithm.ES256 or SigningAlgorithm.ES384 or SigningAlgorithm.ES512:
                // RFC 7518 §3.4: R || S, each exactly the field size. DER is refused by length.
                return signature.Length == 2 * _ecFieldBytes
                    && _ecdsa!.VerifyData(signingInput, signature, alg.Hash(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            case SigningAlgorithm.EdDSA:
                return signature.Length == Ed25519.SignatureSize && Ed25519.Verify(signature, _ed25519!, signingInput);
            case SigningAlgorithm.HS256 or SigningAlgorithm.HS384 or SigningAlgorithm.HS512:
                return VerifyHmac(alg, signingInput, signature);
            default:
                return false;
        }
    }

    private bool VerifyHmac(SigningAlgorithm alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        Span<byte> mac = stackalloc byte[64];
        int written = alg switch
        {
            SigningAlgorithm.HS256 => HMACSHA256.HashData(_secret, signingInput, mac),
            SigningAlgorithm.HS384 => HMACSHA384.HashData(_secret, signingInput, mac),
            _ => HMACSHA512.HashData(_secret, signingInput, mac),
        };

        return signature.Length == written && CryptographicOperations.FixedTimeEquals(mac[..written], signature);
    }

    public void Dispose()
    {
        _rsa?.Dispose();
        _ecdsa?.Dispose();
        if (_secret is not null)
        {
            CryptographicOperations.ZeroMemory(_secret);
        }
    }
}
