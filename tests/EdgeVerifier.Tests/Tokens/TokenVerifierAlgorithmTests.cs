using System.Security.Cryptography;
using System.Text;
using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>
/// DESIGN.md step 3: alg comes from an allow-list and must agree with the key (kty, crv and the
/// JWK's own alg); none never passes; confusion between key families is refused before any
/// signature check.
/// </summary>
public sealed class TokenVerifierAlgorithmTests
{
    private static string Payload(VerifierHarness h) => TestTokens.Payload(h.Time.GetUtcNow());

    private static byte[] RsaPublicJwkBytes() => Encoding.UTF8.GetBytes(TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.RS256)));

    private static byte[] RsaModulus() => Jws.Decode(TestKeys.For(SigningAlgorithm.RS256).PublicJwk.N!);

    private static byte[] RsaSpkiPem()
    {
        using var rsa = Jws.RsaOf(TestKeys.For(SigningAlgorithm.RS256));
        return Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem());
    }

    private static byte[] RsaSpkiDer()
    {
        using var rsa = Jws.RsaOf(TestKeys.For(SigningAlgorithm.RS256));
        return rsa.ExportSubjectPublicKeyInfo();
    }

    public static TheoryData<string, string> HmacOverPublicKeyMaterial() => new()
    {
        { "HS256", "jwk-json" },
        { "HS256", "modulus" },
        { "HS256", "spki-pem" },
        { "HS256", "spki-der" },
        { "HS384", "jwk-json" },
        { "HS512", "modulus" },
    };

    [Theory]
    [MemberData(nameof(HmacOverPublicKeyMaterial))]
    public async Task VerifyAsync_HmacKeyedWithRsaPublicKey_KeyAlgMismatch(string alg, string material)
    {
        // The classic confusion: an HS* token whose secret is the (public!) RSA key, naming the RSA kid.
        using var h = new VerifierHarness();
        var secret = material switch
        {
            "jwk-json" => RsaPublicJwkBytes(),
            "modulus" => RsaModulus(),
            "spki-pem" => RsaSpkiPem(),
            _ => RsaSpkiDer(),
        };

        var token = Jws.Hmac(SigningAlgorithms.Parse(alg), secret, Jws.Header(alg, "k-RS256"), Payload(h));
        var result = await h.VerifyAsync(token);

        Assert.Equal(VerifyError.KeyAlgMismatch, result.Error);
        Assert.Null(result.Token);
    }

    [Theory]
    [InlineData("k-ES256")]
    [InlineData("k-EdDSA")]
    [InlineData("k-PS256")]
    public async Task VerifyAsync_HmacKeyedWithPublicJwkOfAsymmetricKey_KeyAlgMismatch(string kid)
    {
        using var h = new VerifierHarness();
        var publicJson = Encoding.UTF8.GetBytes(File.ReadAllText(h.Directory.File(kid + ".jwk")));

        var token = Jws.Hmac(SigningAlgorithm.HS256, publicJson, Jws.Header("HS256", kid), Payload(h));

        Assert.Equal(VerifyError.KeyAlgMismatch, await h.ErrorOfAsync(token));
    }

    [Theory]
    [InlineData("ES256", "k-ES384")]
    [InlineData("ES256", "k-ES512")]
    [InlineData("ES384", "k-ES256")]
    [InlineData("ES512", "k-ES384")]
    [InlineData("EdDSA", "k-RS256")]
    [InlineData("EdDSA", "k-ES256")]
    [InlineData("RS256", "k-EdDSA")]
    [InlineData("RS256", "k-ES256")]
    [InlineData("RS256", "k-HS256")]
    [InlineData("ES256", "k-HS256")]
    [InlineData("HS256", "k-RS256")]
    [InlineData("HS512", "k-HS256")]
    [InlineData("RS384", "k-RS256")]
    [InlineData("PS256", "k-RS256")]
    [InlineData("RS256", "k-PS256")]
    public async Task VerifyAsync_TokenAlgDisagreesWithKey_KeyAlgMismatch(string alg, string kid)
    {
        // Signed properly by the token alg's own key; only the kid points elsewhere.
        using var h = new VerifierHarness();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithms.Parse(alg)), Payload(h), kid);

        var result = await h.VerifyAsync(token);

        Assert.Equal(VerifyError.KeyAlgMismatch, result.Error);
        Assert.Equal(kid, result.Kid);
    }

    [Fact]
    public async Task VerifyAsync_JwkAlgRs256AndPs256TokenByTheSameRsaKey_KeyAlgMismatch()
    {
        // Same private RSA key, genuine PSS signature; the JWK says alg RS256, so PS256 is refused.
        using var h = new VerifierHarness();
        var rsaKey = TestKeys.For(SigningAlgorithm.RS256);
        Assert.Equal("RS256", rsaKey.PublicJwk.Alg);
        using var pss = SigningKey.FromJson(Encoding.UTF8.GetBytes(JwkJson.Serialize(rsaKey.PrivateJwk)), SigningAlgorithm.PS256, out var error)!;
        Assert.Null(error);

        var token = TestTokens.SignRaw(pss, Jws.Header("PS256", "k-RS256"), Payload(h));

        Assert.Equal(VerifyError.KeyAlgMismatch, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_JwkWithoutAlgAndPs256TokenBySameRsaKey_Valid()
    {
        // The control: drop the JWK's alg and the same PSS token verifies, so the refusal above is the alg binding.
        using var h = new VerifierHarness();
        var rsaKey = TestKeys.For(SigningAlgorithm.RS256);
        File.WriteAllText(h.Directory.File("rsa-any.jwk"), JwkJson.Serialize(rsaKey.PublicJwk with { Alg = null, Kid = "rsa-any" }));
        using var pss = SigningKey.FromJson(Encoding.UTF8.GetBytes(JwkJson.Serialize(rsaKey.PrivateJwk)), SigningAlgorithm.PS256, out _)!;
        using var rs512 = SigningKey.FromJson(Encoding.UTF8.GetBytes(JwkJson.Serialize(rsaKey.PrivateJwk)), SigningAlgorithm.RS512, out _)!;

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(TestTokens.SignRaw(pss, Jws.Header("PS256", "rsa-any"), Payload(h))));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(TestTokens.SignRaw(rs512, Jws.Header("RS512", "rsa-any"), Payload(h))));
    }

    [Fact]
    public async Task VerifyAsync_OctKeyOf32BytesAndHs384Token_KeyAlgMismatch()
    {
        // RFC 7518 §3.2: an HMAC key at least as long as the hash; a 32-byte key only does HS256.
        using var h = new VerifierHarness();
        var secret = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(h.Directory.File("short-oct.jwk"), JwkJson.Serialize(JwkJson.Oct(secret, "short-oct")));

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Jws.Hmac(SigningAlgorithm.HS256, secret, Jws.Header("HS256", "short-oct"), Payload(h))));
        Assert.Equal(VerifyError.KeyAlgMismatch, await h.ErrorOfAsync(Jws.Hmac(SigningAlgorithm.HS384, secret, Jws.Header("HS384", "short-oct"), Payload(h))));
        Assert.Equal(VerifyError.KeyAlgMismatch, await h.ErrorOfAsync(Jws.Hmac(SigningAlgorithm.HS512, secret, Jws.Header("HS512", "short-oct"), Payload(h))));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    [InlineData("nOnE")]
    public async Task VerifyAsync_AlgNoneWithEmptySignature_MalformedToken(string none)
    {
        using var h = new VerifierHarness();
        var withKid = Jws.SigningInput(Jws.Header(none, "k-RS256"), Payload(h)) + ".";
        var withoutKid = Jws.SigningInput(Jws.Header(none, kid: null), Payload(h)) + ".";

        // An empty third segment is not a signed JWS at all: refused by structure before the header is read.
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(withKid));
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(withoutKid));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    [InlineData("nOnE")]
    public async Task VerifyAsync_AlgNoneWithJunkSignature_UnsupportedAlg(string none)
    {
        using var h = new VerifierHarness();
        var now = h.Time.GetUtcNow();
        var realSignature = Jws.Segments(TestTokens.Valid(SigningAlgorithm.RS256, now))[2];

        // A one-character signature ("x") is not base64url at all: refused as malformed before the header is read.
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Jws.SigningInput(Jws.Header(none, "k-RS256"), Payload(h)) + ".x"));
        foreach (var signature in new[] { "AAAA", "bm9uZQ", realSignature })
        {
            var withKid = Jws.SigningInput(Jws.Header(none, "k-RS256"), Payload(h)) + "." + signature;
            var withoutKid = Jws.SigningInput(Jws.Header(none, kid: null), Payload(h)) + "." + signature;

            Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(withKid));
            Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(withoutKid));
        }
    }

    [Fact]
    public async Task VerifyAsync_AlgNoneWithSingleKeyFileSource_NeverValid()
    {
        // A single-key file source needs no kid, the friendliest place for a none token to slip through.
        string? file = null;
        using var h = new VerifierHarness(o =>
        {
            file = Path.Combine(o.Keys!, "single.json");
            File.WriteAllText(file, TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.HS256)));
            o.Keys = file;
        });

        var empty = Jws.SigningInput(Jws.Header("none", kid: null), Payload(h)) + ".";
        var junk = Jws.SigningInput(Jws.Header("none", kid: null), Payload(h)) + ".AAAA";

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(empty));
        Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(junk));
    }

    [Theory]
    [InlineData("HS1")]
    [InlineData("ES256K")]
    [InlineData("RSA-OAEP")]
    [InlineData("RSA1_5")]
    [InlineData("A256GCM")]
    [InlineData("dir")]
    [InlineData("RS1")]
    [InlineData("rs256")]
    [InlineData("Rs256")]
    [InlineData("hs256")]
    [InlineData("EDDSA")]
    [InlineData("eddsa")]
    [InlineData("Ed25519")]
    [InlineData("ES256 ")]
    [InlineData(" ES256")]
    [InlineData("")]
    [InlineData("ES2560")]
    [InlineData("RS\\u0032\\u0035\\u0036")]
    [InlineData("ES256\\u0000")]
    public async Task VerifyAsync_UnknownAlg_UnsupportedAlg(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header(alg, "k-ES256"), Payload(h));

        Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_NoAlgMember_UnsupportedAlg()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), "{\"kid\":\"k-ES256\",\"typ\":\"JWT\"}", Payload(h));

        Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(token));
    }

    [Theory]
    [InlineData("256")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[\"ES256\"]")]
    [InlineData("{\"name\":\"ES256\"}")]
    public async Task VerifyAsync_NonStringAlg_MalformedToken(string algJson)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), $"{{\"alg\":{algJson},\"kid\":\"k-ES256\"}}", Payload(h));

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_AlgOutsideConfiguredAllowList_UnsupportedAlg()
    {
        using var h = new VerifierHarness(o => o.Algorithms = ["ES256", "EdDSA"]);
        var now = h.Time.GetUtcNow();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(TestTokens.Valid(SigningAlgorithm.ES256, now)));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(TestTokens.Valid(SigningAlgorithm.EdDSA, now)));
        foreach (var alg in SigningAlgorithms.All)
        {
            if (alg is not (SigningAlgorithm.ES256 or SigningAlgorithm.EdDSA))
            {
                Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(TestTokens.Valid(alg, now)));
            }
        }
    }

    [Fact]
    public async Task VerifyAsync_HmacOutsideAllowListWithRsaKid_UnsupportedAlgBeforeKeyLookup()
    {
        using var h = new VerifierHarness(o => o.Algorithms = ["RS256"]);

        var token = Jws.Hmac(SigningAlgorithm.HS256, RsaPublicJwkBytes(), Jws.Header("HS256", "k-RS256"), Payload(h));

        Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_AllowListKeyAlgMismatchStillApplies_KeyAlgMismatch()
    {
        using var h = new VerifierHarness(o => o.Algorithms = ["ES256", "ES384"]);

        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), Payload(h), "k-ES384");

        Assert.Equal(VerifyError.KeyAlgMismatch, await h.ErrorOfAsync(token));
    }
}
