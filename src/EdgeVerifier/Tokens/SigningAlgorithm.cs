using System.Security.Cryptography;

namespace EdgeVerifier.Tokens;

/// <summary>JWS algorithms this verifier implements (RFC 7518, RFC 8037). <c>none</c> is absent on purpose.</summary>
public enum SigningAlgorithm : byte
{
    Unknown = 0,
    RS256, RS384, RS512,
    PS256, PS384, PS512,
    ES256, ES384, ES512,
    EdDSA,
    HS256, HS384, HS512,
}

/// <summary>The JWK key family an algorithm needs.</summary>
public enum KeyFamily : byte
{
    Rsa,
    EllipticCurve,
    Okp,
    Symmetric,
}

/// <summary>Lookups between algorithm names, key families and hash functions.</summary>
public static class SigningAlgorithms
{
    /// <summary>Every implemented algorithm, in declaration order.</summary>
    public static readonly SigningAlgorithm[] All =
    [
        SigningAlgorithm.RS256, SigningAlgorithm.RS384, SigningAlgorithm.RS512,
        SigningAlgorithm.PS256, SigningAlgorithm.PS384, SigningAlgorithm.PS512,
        SigningAlgorithm.ES256, SigningAlgorithm.ES384, SigningAlgorithm.ES512,
        SigningAlgorithm.EdDSA,
        SigningAlgorithm.HS256, SigningAlgorithm.HS384, SigningAlgorithm.HS512,
    ];

    /// <summary>Parses an exact, case-sensitive JWS <c>alg</c> name (RFC 7515 §4.1.1: names are case-sensitive).</summary>
    public static SigningAlgorithm Parse(ReadOnlySpan<byte> name) => name.Length switch
    {
        5 => name switch
        {
            _ when name.SequenceEqual("RS256"u8) => SigningAlgorithm.RS256,
            _ when name.SequenceEqual("RS384"u8) => SigningAlgorithm.RS384,
            _ when name.SequenceEqual("RS512"u8) => SigningAlgorithm.RS512,
            _ when name.SequenceEqual("PS256"u8) => SigningAlgorithm.PS256,
            _ when name.SequenceEqual("PS384"u8) => SigningAlgorithm.PS384,
            _ when name.SequenceEqual("PS512"u8) => SigningAlgorithm.PS512,
            _ when name.SequenceEqual("ES256"u8) => SigningAlgorithm.ES256,
            _ when name.SequenceEqual("ES384"u8) => SigningAlgorithm.ES384,
            _ when name.SequenceEqual("ES512"u8) => SigningAlgorithm.ES512,
            _ when name.SequenceEqual("EdDSA"u8) => SigningAlgorithm.EdDSA,
            _ when name.SequenceEqual("HS256"u8) => SigningAlgorithm.HS256,
            _ when name.SequenceEqual("HS384"u8) => SigningAlgorithm.HS384,
            _ when name.SequenceEqual("HS512"u8) => SigningAlgorithm.HS512,
            _ => SigningAlgorithm.Unknown,
        },
        _ => SigningAlgorithm.Unknown,
    };

    /// <summary>Parses an algorithm name given as text (configuration, CLI).</summary>
    public static SigningAlgorithm Parse(string name)
    {
        Span<byte> buffer = stackalloc byte[8];
        if (name.Length > buffer.Length)
        {
            return SigningAlgorithm.Unknown;
        }

        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] > 0x7f)
            {
                return SigningAlgorithm.Unknown;
            }

            buffer[i] = (byte)name[i];
        }

        return Parse(buffer[..name.Length]);
    }

    public static string Name(this SigningAlgorithm alg) => alg switch
    {
        SigningAlgorithm.RS256 => "RS256",
        SigningAlgorithm.RS384 => "RS384",
        SigningAlgorithm.RS512 => "RS512",
        SigningAlgorithm.PS256 => "PS256",
        SigningAlgorithm.PS384 => "PS384",
        SigningAlgorithm.PS512 => "PS512",
        SigningAlgorithm.ES256 => "ES256",
        SigningAlgorithm.ES384 => "ES384",
        SigningAlgorithm.ES512 => "ES512",
        SigningAlgorithm.EdDSA => "EdDSA",
        SigningAlgorithm.HS256 => "HS256",
        SigningAlgorithm.HS384 => "HS384",
        SigningAlgorithm.HS512 => "HS512",
        _ => "unknown",
    };

    public static KeyFamily Family(this SigningAlgorithm alg) => alg switch
    {
        >= SigningAlgorithm.RS256 and <= SigningAlgorithm.PS512 => KeyFamily.Rsa,
        >= SigningAlgorithm.ES256 and <= SigningAlgorithm.ES512 => KeyFamily.EllipticCurve,
        SigningAlgorithm.EdDSA => KeyFamily.Okp,
        _ => KeyFamily.Symmetric,
    };

    public static HashAlgorithmName Hash(this SigningAlgorithm alg) => alg switch
    {
        SigningAlgorithm.RS256 or SigningAlgorithm.PS256 or SigningAlgorithm.ES256 or SigningAlgorithm.HS256 => HashAlgorithmName.SHA256,
        SigningAlgorithm.RS384 or SigningAlgorithm.PS384 or SigningAlgorithm.ES384 or SigningAlgorithm.HS384 => HashAlgorithmName.SHA384,
        SigningAlgorithm.RS512 or SigningAlgorithm.PS512 or SigningAlgorithm.ES512 or SigningAlgorithm.HS512 => HashAlgorithmName.SHA512,
        _ => default,
    };

    /// <summary>The curve an ECDSA algorithm is defined on (RFC 7518 §3.4), or null.</summary>
    public static string? Curve(this SigningAlgorithm alg) => alg switch
    {
        SigningAlgorithm.ES256 => "P-256",
        SigningAlgorithm.ES384 => "P-384",
        SigningAlgorithm.ES512 => "P-521",
        SigningAlgorithm.EdDSA => "Ed25519",
        _ => null,
    };

    /// <summary>Bit flag for allow-list masks.</summary>
    public static int Bit(this SigningAlgorithm alg) => 1 << (int)alg;
}
