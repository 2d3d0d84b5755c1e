using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Support;

/// <summary>Low-level compact-JWS surgery for hostile-token tests: segments, re-encoding, raw signatures.</summary>
public static class Jws
{
    public static string B64(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);

    public static string B64(string text) => B64(Encoding.UTF8.GetBytes(text));

    public static byte[] Decode(string segment) => Base64Url.DecodeFromChars(segment);

    public static string DecodeText(string segment) => Encoding.UTF8.GetString(Decode(segment));

    public static string[] Segments(string token) => token.Split('.');

    /// <summary>A header of the usual shape; <paramref name="extra"/> is raw JSON members appended after typ.</summary>
    public static string Header(string alg, string? kid, string? typ = "JWT", string? extra = null)
    {
        var members = new List<string> { $"\"alg\":\"{alg}\"" };
        if (kid is not null)
        {
            members.Add($"\"kid\":\"{kid}\"");
        }

        if (typ is not null)
        {
            members.Add($"\"typ\":\"{typ}\"");
        }

        if (extra is not null)
        {
            members.Add(extra);
        }

        return "{" + string.Join(",", members) + "}";
    }

    /// <summary>The signing input <c>b64(header).b64(payload)</c> of a token about to be built.</summary>
    public static string SigningInput(string headerJson, string payloadJson) => B64(headerJson) + "." + B64(payloadJson);

    public static string WithSignature(string signingInput, ReadOnlySpan<byte> signature) => signingInput + "." + B64(signature);

    /// <summary>Replaces the payload segment, keeping the original header and signature.</summary>
    public static string WithPayload(string token, string payloadJson)
    {
        var s = Segments(token);
        return s[0] + "." + B64(payloadJson) + "." + s[2];
    }

    /// <summary>Replaces the decoded signature bytes.</summary>
    public static string WithSignatureBytes(string token, ReadOnlySpan<byte> signature)
    {
        var s = Segments(token);
        return s[0] + "." + s[1] + "." + B64(signature);
    }

    /// <summary>Flips every bit of one byte of the decoded signature.</summary>
    public static string FlipSignatureByte(string token, int index)
    {
        var signature = Decode(Segments(token)[2]);
        signature[index] ^= 0xff;
        return WithSignatureBytes(token, signature);
    }

    /// <summary>An HMAC-signed token over an arbitrary secret (no 32-byte floor, no kty check): the attacker's view.</summary>
    public static string Hmac(SigningAlgorithm alg, byte[] secret, string headerJson, string payloadJson)
    {
        var input = SigningInput(headerJson, payloadJson);
        var bytes = Encoding.ASCII.GetBytes(input);
        byte[] mac = alg switch
        {
            SigningAlgorithm.HS256 => HMACSHA256.HashData(secret, bytes),
            SigningAlgorithm.HS384 => HMACSHA384.HashData(secret, bytes),
            SigningAlgorithm.HS512 => HMACSHA512.HashData(secret, bytes),
            _ => throw new ArgumentOutOfRangeException(nameof(alg)),
        };
        return WithSignature(input, mac);
    }

    /// <summary>The RSA private key behind a test <see cref="SigningKey"/>, imported from its private JWK.</summary>
    public static RSA RsaOf(SigningKey key)
    {
        var j = key.PrivateJwk;
        var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters
        {
            Modulus = Decode(j.N!), Exponent = Decode(j.E!), D = Decode(j.D!), P = Decode(j.P!), Q = Decode(j.Q!),
            DP = Decode(j.DP!), DQ = Decode(j.DQ!), InverseQ = Decode(j.QI!),
        });
        return rsa;
    }

    /// <summary>The ECDSA private key behind a test <see cref="SigningKey"/>, imported from its private JWK.</summary>
    public static ECDsa EcdsaOf(SigningKey key)
    {
        var j = key.PrivateJwk;
        var curve = j.Crv switch
        {
            "P-256" => ECCurve.NamedCurves.nistP256,
            "P-384" => ECCurve.NamedCurves.nistP384,
            _ => ECCurve.NamedCurves.nistP521,
        };
        return ECDsa.Create(new ECParameters { Curve = curve, D = Decode(j.D!), Q = new ECPoint { X = Decode(j.X!), Y = Decode(j.Y!) } });
    }
}
