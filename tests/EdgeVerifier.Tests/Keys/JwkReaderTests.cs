using System.Security.Cryptography;
using System.Text;
using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Keys;

/// <summary>DESIGN.md step 5: JWK documents (JSON, base64url JSON, JWKS) and everything unsafe in them refused.</summary>
public sealed class JwkReaderTests
{
    public static TheoryData<string> Algorithms()
    {
        var data = new TheoryData<string>();
        foreach (var alg in SigningAlgorithms.All)
        {
            data.Add(alg.Name());
        }

        return data;
    }

    private static Jwk PublicOf(SigningAlgorithm alg) => TestKeys.For(alg).PublicJwk;

    private static KeyParseResult Parse(string json, int minRsaBits = 2048) => JwkReader.Parse(Encoding.UTF8.GetBytes(json), minRsaBits);

    private static KeyParseResult Parse(Jwk jwk) => Parse(JwkJson.Serialize(jwk));

    private static void AssertRefused(KeyParseResult result, string because)
    {
        Assert.False(result.Ok, $"accepted, expected refusal because {because}");
        Assert.Null(result.Keys);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Parse_PublicJwkJson_OneKeyBoundToItsAlg(string alg)
    {
        var algorithm = SigningAlgorithms.Parse(alg);

        var result = Parse(PublicOf(algorithm));

        Assert.True(result.Ok, result.Error);
        var key = Assert.Single(result.Keys!);
        Assert.Equal("k-" + alg, key.Kid);
        Assert.Equal(algorithm.Family(), key.Family);
        Assert.Equal(algorithm.Bit(), key.Algorithms);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Parse_Base64UrlEncodedJwk_SameAsJson(string alg)
    {
        var json = TestKeys.PublicJson(TestKeys.For(SigningAlgorithms.Parse(alg)));

        var result = JwkReader.Parse(Encoding.ASCII.GetBytes("\n " + Jws.B64(json) + "\r\n"));

        Assert.True(result.Ok, result.Error);
        Assert.Equal("k-" + alg, Assert.Single(result.Keys!).Kid);
    }

    [Fact]
    public void Parse_JwkWithSurroundingWhitespace_Accepted()
    {
        Assert.True(Parse("\r\n\t " + TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.ES256)) + "\n\n").Ok);
    }

    [Fact]
    public void Parse_Jwks_AllKeysInOrder()
    {
        var set = JwkJson.Set(PublicOf(SigningAlgorithm.RS256), PublicOf(SigningAlgorithm.ES384), PublicOf(SigningAlgorithm.EdDSA), PublicOf(SigningAlgorithm.HS512));

        var result = Parse(set);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(["k-RS256", "k-ES384", "k-EdDSA", "k-HS512"], result.Keys!.Select(k => k.Kid));
    }

    [Fact]
    public void Parse_Base64UrlEncodedJwks_Accepted()
    {
        var set = JwkJson.Set(PublicOf(SigningAlgorithm.PS256), PublicOf(SigningAlgorithm.ES256));

        var result = JwkReader.Parse(Encoding.ASCII.GetBytes(Jws.B64(set)));

        Assert.True(result.Ok, result.Error);
        Assert.Equal(2, result.Keys!.Length);
    }

    [Fact]
    public void Parse_EmptyJwks_OkWithNoKeys()
    {
        var result = Parse("{\"keys\":[]}");

        Assert.True(result.Ok);
        Assert.Empty(result.Keys!);
    }

    [Fact]
    public void Parse_JwksWithOneBadKey_WholeSetRefused()
    {
        var set = JwkJson.Set(PublicOf(SigningAlgorithm.ES256), TestKeys.For(SigningAlgorithm.RS256).PrivateJwk);

        AssertRefused(Parse(set), "one key in the set is private");
    }

    [Fact]
    public void Parse_UnknownMembers_Ignored()
    {
        var json = TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.ES256)).TrimEnd('}') + ",\"x5c\":[\"MIIB\"],\"ext\":true,\"foo\":{\"bar\":[1]}}";

        Assert.True(Parse(json).Ok);
    }

    [Fact]
    public void Parse_RsaWithoutAlg_AllRsaAlgorithms()
    {
        var key = Assert.Single(Parse(PublicOf(SigningAlgorithm.RS256) with { Alg = null }).Keys!);

        foreach (var alg in SigningAlgorithms.All)
        {
            Assert.Equal(alg.Family() == KeyFamily.Rsa, key.Permits(alg));
        }
    }

    [Theory]
    [InlineData("ES256", "ES256")]
    [InlineData("ES384", "ES384")]
    [InlineData("ES512", "ES512")]
    [InlineData("EdDSA", "EdDSA")]
    public void Parse_CurveKeyWithoutAlg_OnlyItsCurveAlgorithm(string keyAlg, string permitted)
    {
        var key = Assert.Single(Parse(PublicOf(SigningAlgorithms.Parse(keyAlg)) with { Alg = null }).Keys!);

        Assert.Equal(SigningAlgorithms.Parse(permitted).Bit(), key.Algorithms);
    }

    [Theory]
    [InlineData(32, "HS256")]
    [InlineData(47, "HS256")]
    [InlineData(48, "HS256,HS384")]
    [InlineData(64, "HS256,HS384,HS512")]
    [InlineData(100, "HS256,HS384,HS512")]
    public void Parse_OctWithoutAlg_HmacAlgorithmsTheLengthAllows(int bytes, string permitted)
    {
        var key = Assert.Single(Parse(JwkJson.Oct(RandomNumberGenerator.GetBytes(bytes), "oct")).Keys!);

        var expected = 0;
        foreach (var name in permitted.Split(','))
        {
            expected |= SigningAlgorithms.Parse(name).Bit();
        }

        Assert.Equal(expected, key.Algorithms);
    }

    [Fact]
    public void Parse_NoKid_KeyWithoutKid()
    {
        Assert.Null(Assert.Single(Parse(PublicOf(SigningAlgorithm.ES256) with { Kid = null }).Keys!).Kid);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Parse_PrivateJwk_Refused(string alg)
    {
        var privateJwk = TestKeys.For(SigningAlgorithms.Parse(alg)).PrivateJwk;
        if (privateJwk.Kty == "oct")
        {
            // For HS* the secret is the key; only a stray "d" makes it private-looking.
            privateJwk = privateJwk with { D = "AQAB" };
        }

        AssertRefused(Parse(privateJwk), "it carries private parts");
    }

    [Theory]
    [InlineData("d")]
    [InlineData("p")]
    [InlineData("q")]
    [InlineData("dp")]
    [InlineData("dq")]
    [InlineData("qi")]
    public void Parse_RsaWithAnyPrivateMember_Refused(string member)
    {
        var json = TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.RS256)).TrimEnd('}') + $",\"{member}\":\"AQAB\"}}";

        AssertRefused(Parse(json), $"'{member}' is a private member");
    }

    [Fact]
    public void Parse_EcWithEmptyD_Refused()
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.ES256) with { D = "" }), "an empty d is still a d");
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(1536)]
    [InlineData(2040)]
    public void Parse_RsaBelow2048Bits_Refused(int bits)
    {
        using var rsa = RSA.Create(bits);

        AssertRefused(Parse(JwkJson.Serialize(JwkJson.Rsa(rsa, "small"))), $"{bits} bits is below 2048");
    }

    [Fact]
    public void Parse_Rsa1024PaddedWithLeadingZerosTo2048_Refused()
    {
        using var rsa = RSA.Create(1024);
        var p = rsa.ExportParameters(false);
        var padded = new byte[256];
        p.Modulus!.CopyTo(padded, 128);
        var jwk = new Jwk { Kty = "RSA", Kid = "padded", N = Jws.B64(padded), E = Jws.B64(p.Exponent) };

        AssertRefused(Parse(jwk), "leading zero bytes do not make a modulus longer");
    }

    [Fact]
    public void Parse_Rsa1024WithLowerConfiguredMinimum_Accepted()
    {
        using var rsa = RSA.Create(1024);

        Assert.True(Parse(JwkJson.Serialize(JwkJson.Rsa(rsa, "small")), minRsaBits: 1024).Ok);
    }

    [Theory]
    [InlineData("n", "")]
    [InlineData("e", "")]
    [InlineData("n", null)]
    [InlineData("e", null)]
    [InlineData("n", "AQAB+/")]
    [InlineData("n", "AQAB==")]
    [InlineData("e", "A")]
    public void Parse_RsaWithBadModulusOrExponent_Refused(string member, string? value)
    {
        var jwk = PublicOf(SigningAlgorithm.RS256);
        jwk = member == "n" ? jwk with { N = value } : jwk with { E = value };

        AssertRefused(Parse(jwk), $"'{member}' is '{value}'");
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("ES512")]
    public void Parse_EcPointNotOnCurve_Refused(string alg)
    {
        var jwk = PublicOf(SigningAlgorithms.Parse(alg));
        var y = Jws.Decode(jwk.Y!);
        y[^1] ^= 0x01;

        AssertRefused(Parse(jwk with { Y = Jws.B64(y) }), "the point is not on the curve");
    }

    [Fact]
    public void Parse_EcPointAtOriginOrAllOnes_Refused()
    {
        var jwk = PublicOf(SigningAlgorithm.ES256);

        AssertRefused(Parse(jwk with { X = Jws.B64(new byte[32]), Y = Jws.B64(new byte[32]) }), "(0,0) is not on P-256");
        AssertRefused(Parse(jwk with { X = Jws.B64(Enumerable.Repeat((byte)0xff, 32).ToArray()), Y = Jws.B64(Enumerable.Repeat((byte)0xff, 32).ToArray()) }), "coordinates exceed the field");
    }

    [Theory]
    [InlineData("ES256", 31, 32)]
    [InlineData("ES256", 32, 33)]
    [InlineData("ES256", 48, 48)]
    [InlineData("ES384", 32, 32)]
    [InlineData("ES512", 65, 66)]
    [InlineData("ES512", 66, 0)]
    public void Parse_EcCoordinateOfWrongLength_Refused(string alg, int xLength, int yLength)
    {
        var jwk = PublicOf(SigningAlgorithms.Parse(alg));

        AssertRefused(Parse(jwk with { X = Jws.B64(new byte[xLength]), Y = Jws.B64(new byte[yLength]) }), "coordinate lengths do not match the curve");
    }

    [Fact]
    public void Parse_EcMissingY_Refused()
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.ES256) with { Y = null }), "y is missing");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("P-192")]
    [InlineData("P-224")]
    [InlineData("secp256k1")]
    [InlineData("p-256")]
    [InlineData("Ed25519")]
    public void Parse_EcUnknownCurve_Refused(string? crv)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.ES256) with { Crv = crv, Alg = null }), $"crv '{crv}'");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("X25519")]
    [InlineData("Ed448")]
    [InlineData("ed25519")]
    [InlineData("P-256")]
    public void Parse_OkpUnknownCurve_Refused(string? crv)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.EdDSA) with { Crv = crv, Alg = null }), $"crv '{crv}'");
    }

    [Theory]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(0)]
    public void Parse_Ed25519KeyOfWrongLength_Refused(int length)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.EdDSA) with { X = Jws.B64(new byte[length]) }), $"{length} bytes");
    }

    [Fact]
    public void Parse_Ed25519NotACurvePoint_Refused()
    {
        // y = 2 has no x on edwards25519 (the square root does not exist).
        var x = new byte[32];
        x[0] = 2;

        AssertRefused(Parse(PublicOf(SigningAlgorithm.EdDSA) with { X = Jws.B64(x) }), "not a valid point");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("rsa")]
    [InlineData("RSA-PSS")]
    [InlineData("okp")]
    [InlineData("OCT")]
    [InlineData("EC2")]
    public void Parse_UnknownKty_Refused(string? kty)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.RS256) with { Kty = kty }), $"kty '{kty}'");
    }

    [Theory]
    [InlineData("enc")]
    [InlineData("SIG")]
    [InlineData("")]
    [InlineData("sig ")]
    public void Parse_UseNotSig_Refused(string use)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.ES256) with { Use = use }), $"use '{use}'");
    }

    [Theory]
    [InlineData("")]
    [InlineData("sign")]
    [InlineData("encrypt,wrapKey")]
    [InlineData("Verify")]
    public void Parse_KeyOpsWithoutVerify_Refused(string list)
    {
        var ops = list.Split(',', StringSplitOptions.RemoveEmptyEntries);

        AssertRefused(Parse(PublicOf(SigningAlgorithm.ES256) with { KeyOps = ops }), $"key_ops [{string.Join(",", ops)}]");
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("sign,verify")]
    public void Parse_KeyOpsWithVerify_Accepted(string list)
    {
        var ops = list.Split(',');

        Assert.True(Parse(PublicOf(SigningAlgorithm.ES256) with { KeyOps = ops }).Ok);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    public void Parse_OctShorterThan32Bytes_Refused(int bytes)
    {
        AssertRefused(Parse(JwkJson.Oct(new byte[bytes], "short")), $"{bytes}-byte secret");
    }

    [Fact]
    public void Parse_OctWithoutK_Refused()
    {
        AssertRefused(Parse("{\"kty\":\"oct\",\"kid\":\"x\"}"), "k is missing");
    }

    [Theory]
    [InlineData("RS256", "ES256")]
    [InlineData("RS256", "HS256")]
    [InlineData("RS256", "EdDSA")]
    [InlineData("ES256", "ES384")]
    [InlineData("ES256", "RS256")]
    [InlineData("ES256", "EdDSA")]
    [InlineData("ES384", "ES256")]
    [InlineData("ES512", "ES384")]
    [InlineData("EdDSA", "ES256")]
    [InlineData("EdDSA", "HS256")]
    [InlineData("HS256", "HS384")]
    [InlineData("HS256", "HS512")]
    [InlineData("HS256", "RS256")]
    [InlineData("HS512", "PS512")]
    public void Parse_JwkAlgDisagreesWithKey_Refused(string keyAlg, string declared)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithms.Parse(keyAlg)) with { Alg = declared }), $"a {keyAlg} key declaring {declared}");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("RSA-OAEP")]
    [InlineData("ES256K")]
    [InlineData("rs256")]
    [InlineData("")]
    public void Parse_JwkAlgUnsupported_Refused(string declared)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.RS256) with { Alg = declared }), $"alg '{declared}'");
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("k\u00efd")]
    [InlineData("with space")]
    public void Parse_JwkWithInvalidKid_Refused(string kid)
    {
        AssertRefused(Parse(PublicOf(SigningAlgorithm.ES256) with { Kid = kid }), $"kid '{kid}'");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("{")]
    [InlineData("}")]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("[{\"kty\":\"oct\"}]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("{\"kty\":5}")]
    [InlineData("{\"kty\":\"RSA\",\"n\":5,\"e\":\"AQAB\"}")]
    [InlineData("{\"kty\":\"EC\",\"key_ops\":\"verify\"}")]
    [InlineData("{\"kty\":\"EC\",\"key_ops\":[1]}")]
    [InlineData("{\"keys\":{}}")]
    [InlineData("{\"keys\":\"x\"}")]
    [InlineData("{\"keys\":[1]}")]
    [InlineData("{\"keys\":[null]}")]
    [InlineData("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"},null]}")]
    [InlineData("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},null]}")]
    [InlineData("{\"keys\":[[]]}")]
    [InlineData("{\"keys\":null}")]
    [InlineData("{\"kty\":\"oct\",\"k\":\"\\ud800\"}")]
    [InlineData("{\"kid\":\"\\udc00\",\"kty\":\"oct\"}")]
    [InlineData("{\"kty\":\"oct\",\"k\":\"AAAA\",}")]
    [InlineData("{\"kty\":\"oct\",/*x*/\"k\":\"AAAA\"}")]
    [InlineData("{\"kty\":\"oct\"} {\"kty\":\"oct\"}")]
    [InlineData("{\"kty\":\"oct\"}]")]
    [InlineData("{'kty':'oct'}")]
    [InlineData("eyJrdHkiOiJvY3QifQ=")]
    [InlineData("W10")]
    [InlineData("bm90IGpzb24")]
    [InlineData("A")]
    [InlineData("-----BEGIN PUBLIC KEY-----")]
    public void Parse_MalformedDocument_RefusedWithoutException(string document)
    {
        var result = JwkReader.Parse(Encoding.UTF8.GetBytes(document));

        AssertRefused(result, "the document is malformed");
    }

    [Fact]
    public void Parse_InvalidUtf8_RefusedWithoutException()
    {
        byte[] document = [.. "{\"kty\":\"oct\",\"kid\":\""u8, 0xff, 0xfe, .. "\",\"k\":\"AAAA\"}"u8];

        AssertRefused(JwkReader.Parse(document), "invalid UTF-8");
    }

    [Fact]
    public void Parse_DeeplyNested_RefusedWithoutException()
    {
        var deep = "{\"kty\":\"oct\",\"x\":" + new string('[', 5000) + new string(']', 5000) + "}";

        AssertRefused(Parse(deep), "nesting beyond the reader's depth limit");
    }

    [Fact]
    public void Parse_LargerThanMaximum_Refused()
    {
        var huge = "{\"kty\":\"oct\",\"pad\":\"" + new string('a', JwkReader.MaxDocumentBytes) + "\"}";

        AssertRefused(Parse(huge), "the document exceeds the size limit");
    }

    [Fact]
    public void Parse_ValidKeyUsableForVerification_VerifiesItsOwnSignature()
    {
        var signer = TestKeys.For(SigningAlgorithm.ES256);
        var key = Assert.Single(Parse(signer.PublicJwk).Keys!);
        var input = "a.b"u8.ToArray();

        Assert.True(key.Verify(SigningAlgorithm.ES256, input, signer.Sign(input)));
        Assert.False(key.Verify(SigningAlgorithm.ES256, "a.c"u8, signer.Sign(input)));
    }
}
