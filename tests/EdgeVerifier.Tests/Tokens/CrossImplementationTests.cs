using System.Security.Cryptography;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>
/// Tokens from an independent signer, Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/>,
/// verify here, so the verifier agrees with the wider ecosystem and not just with its own
/// <see cref="TokenWriter"/>. Keys are made with .NET crypto and published as hand-built JWKs.
/// </summary>
public sealed class CrossImplementationTests
{
    public static TheoryData<string> Algorithms() =>
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_TokenFromJsonWebTokenHandler_Valid(string alg)
    {
        using var h = new VerifierHarness();
        var kid = "im-" + alg;
        using var material = IdentityModelKey.Create(alg, kid);
        File.WriteAllText(h.Directory.File(kid + ".jwk"), material.PublicJwkJson);

        var token = CreateToken(h, material.Key, alg, sub: "im-user");
        var result = await h.VerifyAsync(token);

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal("im-user", result.Token!.Subject);
        Assert.Equal(TestTokens.Issuer, result.Token.Issuer);
        Assert.Equal(kid, result.Token.Kid);
        Assert.Equal(alg, result.Token.Algorithm.Name());
        Assert.Contains($"\"kid\":\"{kid}\"", Jws.DecodeText(Jws.Segments(token)[0]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("PS256")]
    [InlineData("ES256")]
    [InlineData("HS256")]
    public async Task VerifyAsync_TokenFromJsonWebTokenHandlerWithPayloadTampered_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var kid = "im-" + alg;
        using var material = IdentityModelKey.Create(alg, kid);
        File.WriteAllText(h.Directory.File(kid + ".jwk"), material.PublicJwkJson);
        var token = CreateToken(h, material.Key, alg, sub: "im-user");

        var forged = Jws.WithPayload(token, Jws.DecodeText(Jws.Segments(token)[1]).Replace("im-user", "im-root", StringComparison.Ordinal));

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(forged));
    }

    [Fact]
    public async Task VerifyAsync_TokenFromJsonWebTokenHandlerExpired_Expired()
    {
        using var h = new VerifierHarness();
        using var material = IdentityModelKey.Create("ES256", "im-ES256");
        File.WriteAllText(h.Directory.File("im-ES256.jwk"), material.PublicJwkJson);
        var token = CreateToken(h, material.Key, "ES256", sub: "im-user");

        h.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(60));

        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(token));
    }

    private static string CreateToken(VerifierHarness h, SecurityKey key, string alg, string sub)
    {
        var now = h.Time.GetUtcNow().UtcDateTime;
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TestTokens.Issuer,
            Audience = TestTokens.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = sub },
            SigningCredentials = new SigningCredentials(key, alg),
        });
    }

    private sealed class IdentityModelKey : IDisposable
    {
        private readonly IDisposable? _owned;

        private IdentityModelKey(SecurityKey key, string publicJwkJson, IDisposable? owned)
        {
            Key = key;
            PublicJwkJson = publicJwkJson;
            _owned = owned;
        }

        public SecurityKey Key { get; }

        public string PublicJwkJson { get; }

        public static IdentityModelKey Create(string alg, string kid)
        {
            switch (alg[..2])
            {
                case "RS" or "PS":
                {
                    var rsa = RSA.Create(2048);
                    return new(new RsaSecurityKey(rsa) { KeyId = kid }, JwkJson.Serialize(JwkJson.Rsa(rsa, kid)), rsa);
                }

                case "ES":
                {
                    var curve = alg switch
                    {
                        "ES256" => ECCurve.NamedCurves.nistP256,
                        "ES384" => ECCurve.NamedCurves.nistP384,
                        _ => ECCurve.NamedCurves.nistP521,
                    };
                    var ecdsa = ECDsa.Create(curve);
                    return new(new ECDsaSecurityKey(ecdsa) { KeyId = kid }, JwkJson.Serialize(JwkJson.Ec(ecdsa, kid)), ecdsa);
                }

                default:
                {
                    var secret = RandomNumberGenerator.GetBytes(64);
                    return new(new SymmetricSecurityKey(secret) { KeyId = kid }, JwkJson.Serialize(JwkJson.Oct(secret, kid)), null);
                }
            }
        }

        public void Dispose() => _owned?.Dispose();
    }
}
