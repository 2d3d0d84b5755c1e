using System.Text.Json;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>DESIGN.md step 3: the JOSE header: duplicates, crit, typ, embedded keys, malformed JSON.</summary>
public sealed class TokenVerifierHeaderTests
{
    private static string Payload(VerifierHarness h) => TestTokens.Payload(h.Time.GetUtcNow());

    private static string Es256(VerifierHarness h, string headerJson) =>
        TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), headerJson, Payload(h));

    [Theory]
    [InlineData("{\"alg\":\"ES256\",\"alg\":\"ES256\",\"kid\":\"k-ES256\"}")]
    [InlineData("{\"alg\":\"none\",\"kid\":\"k-ES256\",\"alg\":\"ES256\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"alg\":\"none\"}")]
    [InlineData("{\"alg\":\"ES256\",\"\\u0061lg\":\"HS256\",\"kid\":\"k-ES256\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"kid\":\"k-ES256\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-RS256\",\"kid\":\"k-ES256\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"k\\u0069d\":\"k-ES256\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"crit\":[],\"crit\":[]}")]
    public async Task VerifyAsync_DuplicateHeaderMember_MalformedToken(string header)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Es256(h, header)));
    }

    [Theory]
    [InlineData("\"crit\":[\"exp\"],\"exp\":1")]
    [InlineData("\"crit\":[\"b64\"],\"b64\":false")]
    [InlineData("\"crit\":[]")]
    [InlineData("\"crit\":[\"http://example.com/ext\"]")]
    [InlineData("\"crit\":\"exp\"")]
    [InlineData("\"crit\":null")]
    public async Task VerifyAsync_CritPresent_UnsupportedCrit(string crit)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.UnsupportedCrit, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", extra: crit))));
    }

    [Fact]
    public async Task VerifyAsync_CritFirstInHeader_UnsupportedCrit()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.UnsupportedCrit, await h.ErrorOfAsync(Es256(h, "{\"crit\":[\"x\"],\"x\":1,\"alg\":\"ES256\",\"kid\":\"k-ES256\"}")));
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("jwt")]
    [InlineData("Jwt")]
    [InlineData("at+jwt")]
    [InlineData("AT+JWT")]
    [InlineData("application/at+jwt")]
    [InlineData("Application/AT+JWT")]
    [InlineData("application/jwt")]
    public async Task VerifyAsync_AccessTokenTyp_Accepted(string typ)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", typ))));
    }

    [Fact]
    public async Task VerifyAsync_NoTyp_Accepted()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", typ: null))));
    }

    [Theory]
    [InlineData("dpop+jwt")]
    [InlineData("application/dpop+jwt")]
    [InlineData("secevent+jwt")]
    [InlineData("JWS")]
    [InlineData("JOSE")]
    [InlineData("JWT ")]
    [InlineData("")]
    [InlineData("application/")]
    [InlineData("application/application/jwt")]
    [InlineData("at+jwtx")]
    [InlineData("J\\u0057T")]
    public async Task VerifyAsync_OtherTyp_InvalidTyp(string typ)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.InvalidTyp, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", typ))));
    }

    [Fact]
    public async Task VerifyAsync_OverlongTyp_InvalidTyp()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.InvalidTyp, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", "application/" + new string('j', 200)))));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("null")]
    [InlineData("[\"JWT\"]")]
    public async Task VerifyAsync_NonStringTyp_MalformedToken(string typJson)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Es256(h, $"{{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"typ\":{typJson}}}")));
    }

    [Fact]
    public async Task VerifyAsync_ConfiguredTokenTypes_ReplaceDefaults()
    {
        using var h = new VerifierHarness(o => o.TokenTypes = ["application/secevent+jwt"]);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", "secevent+jwt"))));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", "application/secevent+jwt"))));
        Assert.Equal(VerifyError.InvalidTyp, await h.ErrorOfAsync(Es256(h, Jws.Header("ES256", "k-ES256", "JWT"))));
    }

    public static TheoryData<string> EmbeddedKeyHeaders() => ["jwk", "jku", "x5u", "x5c", "all"];

    [Theory]
    [MemberData(nameof(EmbeddedKeyHeaders))]
    public async Task VerifyAsync_AttackerKeyEmbeddedWithRealKid_BadSignature(string which)
    {
        using var h = new VerifierHarness();
        using var attacker = TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256");
        var header = Jws.Header("ES256", "k-ES256", extra: EmbeddedMembers(which, TestKeys.PublicJson(attacker)));

        var result = await h.VerifyAsync(TestTokens.SignRaw(attacker, header, Payload(h)));

        Assert.Equal(VerifyError.BadSignature, result.Error);
        Assert.Null(result.Token);
    }

    [Theory]
    [MemberData(nameof(EmbeddedKeyHeaders))]
    public async Task VerifyAsync_AttackerKeyEmbeddedWithoutKid_MissingKid(string which)
    {
        using var h = new VerifierHarness();
        using var attacker = TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256");
        var header = Jws.Header("ES256", kid: null, extra: EmbeddedMembers(which, TestKeys.PublicJson(attacker)));

        Assert.Equal(VerifyError.MissingKid, await h.ErrorOfAsync(TestTokens.SignRaw(attacker, header, Payload(h))));
    }

    [Theory]
    [MemberData(nameof(EmbeddedKeyHeaders))]
    public async Task VerifyAsync_LegitTokenCarryingEmbeddedKeyHeaders_IgnoredAndValid(string which)
    {
        using var h = new VerifierHarness();
        using var attacker = TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256");
        var header = Jws.Header("ES256", "k-ES256", extra: EmbeddedMembers(which, TestKeys.PublicJson(attacker)));

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Es256(h, header)));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"alg\":\"ES256\"}]")]
    [InlineData("\"ES256\"")]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("{")]
    [InlineData("}")]
    [InlineData("{}}")]
    [InlineData("{{}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\"}{}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\"} {\"a\":1}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",}")]
    [InlineData("{\"alg\":\"ES256\" \"kid\":\"k-ES256\"}")]
    [InlineData("{'alg':'ES256'}")]
    [InlineData("{\"alg\":\"ES256\",/*c*/\"kid\":\"k-ES256\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"x\":\"\\q\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"x\":tru}")]
    public async Task VerifyAsync_HeaderNotOneJsonObject_MalformedToken(string header)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Es256(h, header)));
    }

    [Fact]
    public async Task VerifyAsync_HeaderWithSurroundingWhitespace_Valid()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Es256(h, " \r\n{ \"alg\" : \"ES256\" ,\n\"kid\":\"k-ES256\" }\t")));
    }

    [Theory]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"\\ud800\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"\\udc00k\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k\\ud800\\u0041\"}")]
    [InlineData("{\"alg\":\"ES256\",\"\\ud800\":1,\"kid\":\"k-ES256\"}")]
    [InlineData("{\"\\ud800\\ud800\":1,\"alg\":\"ES256\",\"kid\":\"k-ES256\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"\\udfff\":{\"a\":1}}")]
    public async Task VerifyAsync_LoneSurrogateEscapeInHeader_MalformedTokenNotException(string header)
    {
        // An escaped lone surrogate is legal JSON grammar but not text, and unescaping it throws in
        // System.Text.Json. The header is read before any signature check: any anonymous client can send it.
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Es256(h, header)));
    }

    [Fact]
    public async Task VerifyAsync_LoneSurrogateEscapeInTyp_InvalidTyp()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.InvalidTyp, await h.ErrorOfAsync(Es256(h, "{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"typ\":\"\\ud800\"}")));
    }

    [Fact]
    public async Task VerifyAsync_RawInvalidUtf8InHeader_RefusedNotException()
    {
        // Utf8JsonReader does not validate UTF-8 inside strings while reading; nothing here may unescape it into a throw.
        using var h = new VerifierHarness();
        byte[] header = [.. "{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"x\":\""u8, 0xff, 0xfe, .. "\",\"k\\u0069"u8, 0xc3, .. "d\":1}"u8];
        var input = Jws.B64(header) + "." + Jws.B64(Payload(h));

        var result = await h.VerifyAsync(input + ".AAAA");

        Assert.False(result.IsValid);
    }

    [Fact]
    public async Task VerifyAsync_HeaderLargerThanStackBuffer_StillVerified()
    {
        // Headers over 2 KiB decode into a pooled buffer instead of the stack: same answers.
        using var h = new VerifierHarness();
        var big = Jws.Header("ES256", "k-ES256", extra: $"\"pad\":\"{new string('p', 4000)}\"");

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Es256(h, big)));
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Es256(h, big + "x")));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.FlipSignatureByte(Es256(h, big), 3)));
    }

    private static string EmbeddedMembers(string which, string attackerJwk)
    {
        var x5c = "\"MIIBszCCAVmgAwIBAgIUattackerattackerattackerMAoGCCqGSM49BAMC\"";
        var members = new Dictionary<string, string>
        {
            ["jwk"] = $"\"jwk\":{attackerJwk}",
            ["jku"] = "\"jku\":\"https://attacker.test/jwks.json\"",
            ["x5u"] = "\"x5u\":\"https://attacker.test/cert.pem\"",
            ["x5c"] = $"\"x5c\":[{x5c}]",
        };
        var chosen = which == "all" ? string.Join(",", members.Values) : members[which];
        using var _ = JsonDocument.Parse("{" + chosen + "}"); // the members are well-formed JSON
        return chosen;
    }
}
