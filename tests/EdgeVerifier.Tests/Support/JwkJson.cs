using System.Security.Cryptography;
using System.Text.Json;
using EdgeVerifier.Keys;

namespace EdgeVerifier.Tests.Support;

/// <summary>Public JWK documents built straight from .NET key objects (independent of <see cref="SigningKey"/>).</summary>
public static class JwkJson
{
    public static string Serialize(Jwk jwk) => JsonSerializer.Serialize(jwk, JwkJsonContext.Default.Jwk);

    public static string Set(params Jwk[] keys) => JsonSerializer.Serialize(new JwkSet { Keys = keys }, JwkJsonContext.Default.JwkSet);

    public static Jwk Rsa(RSA rsa, string? kid, string? alg = null)
    {
        var p = rsa.ExportParameters(false);
        return new Jwk { Kty = "RSA", Kid = kid, Alg = alg, N = Jws.B64(p.Modulus), E = Jws.B64(p.Exponent) };
    }

    public static Jwk Ec(ECDsa ecdsa, string? kid, string? alg = null)
    {
        var p = ecdsa.ExportParameters(false);
        var crv = p.Q.X!.Length switch { 32 => "P-256", 48 => "P-384", _ => "P-521" };
        return new Jwk { Kty = "EC", Kid = kid, Alg = alg, Crv = crv, X = Jws.B64(p.Q.X), Y = Jws.B64(p.Q.Y) };
    }

    public static Jwk Oct(byte[] secret, string? kid, string? alg = null) =>
        new() { Kty = "oct", Kid = kid, Alg = alg, K = Jws.B64(secret) };
}
