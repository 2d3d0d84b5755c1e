using System.Text;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>DESIGN.md step 7: iss, aud, required claims, duplicate registered claims and claim→header values.</summary>
public sealed class ClaimsTests
{
    private static readonly long T = VerifierHarness.Start.ToUnixTimeSeconds();

    /// <summary>A token whose payload is exactly <paramref name="members"/> plus a valid exp.</summary>
    private static string Token(string members)
    {
        var payload = $"{{{members}{(members.Length == 0 ? "" : ",")}\"exp\":{T + 3600}}}";
        return TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), payload);
    }

    private const string Iss = $"\"iss\":\"{TestTokens.Issuer}\"";
    private const string Aud = $"\"aud\":\"{TestTokens.Audience}\"";

    [Theory]
    [InlineData("\"iss\":\"https://evil.test\"")]
    [InlineData("\"iss\":\"https://ISSUER.test\"")]
    [InlineData("\"iss\":\"https://issuer.test/\"")]
    [InlineData("\"iss\":\"https://issuer.tes\"")]
    [InlineData("\"iss\":\"\"")]
    [InlineData("\"other\":\"https://issuer.test\"")]
    public async Task VerifyAsync_IssuerWrongOrMissing_BadIssuer(string issuerMember)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.BadIssuer, await h.ErrorOfAsync(Token($"{issuerMember},{Aud}")));
    }

    [Fact]
    public async Task VerifyAsync_IssuerAbsent_BadIssuer()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.BadIssuer, await h.ErrorOfAsync(Token(Aud)));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("null")]
    [InlineData("[\"https://issuer.test\"]")]
    [InlineData("{}")]
    public async Task VerifyAsync_IssuerNotAString_MalformedToken(string value)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token($"\"iss\":{value},{Aud}")));
    }

    [Fact]
    public async Task VerifyAsync_EscapedIssuerEqualToConfigured_Matches()
    {
        using var h = new VerifierHarness();

        var result = await h.VerifyAsync(Token($"\"iss\":\"https:\\/\\/issuer\\u002etest\",{Aud}"));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal(TestTokens.Issuer, result.Token!.Issuer);
    }

    [Fact]
    public async Task VerifyAsync_SecondConfiguredIssuer_MatchesAndIsReported()
    {
        using var h = new VerifierHarness(o => o.Issuers = ["https://a.test", "https://b.test"]);

        var result = await h.VerifyAsync(Token($"\"iss\":\"https://b.test\",{Aud}"));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal("https://b.test", result.Token!.Issuer);
    }

    [Fact]
    public async Task VerifyAsync_AnyIssuer_AcceptsAnyIssuerAndReportsIt()
    {
        using var h = new VerifierHarness(o =>
        {
            o.Issuers = [];
            o.AnyIssuer = true;
        });

        var result = await h.VerifyAsync(Token($"\"iss\":\"https://whoever.test\",{Aud}"));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal("https://whoever.test", result.Token!.Issuer);
    }

    [Fact]
    public async Task VerifyAsync_AnyIssuerAndNoIss_Valid()
    {
        using var h = new VerifierHarness(o =>
        {
            o.Issuers = [];
            o.AnyIssuer = true;
        });

        var result = await h.VerifyAsync(Token(Aud));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Null(result.Token!.Issuer);
    }

    [Theory]
    [InlineData("\"aud\":\"edge\"")]
    [InlineData("\"aud\":[\"edge\"]")]
    [InlineData("\"aud\":[\"other\",\"edge\"]")]
    [InlineData("\"aud\":[\"edge\",\"other\",\"third\"]")]
    [InlineData("\"aud\":\"\\u0065dge\"")]
    public async Task VerifyAsync_AudienceMatches_Valid(string audience)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{audience}")));
    }

    [Theory]
    [InlineData("\"aud\":\"other\"")]
    [InlineData("\"aud\":\"EDGE\"")]
    [InlineData("\"aud\":\"edge \"")]
    [InlineData("\"aud\":\"\"")]
    [InlineData("\"aud\":[\"other\",\"third\"]")]
    [InlineData("\"aud\":[]")]
    [InlineData("\"audience\":\"edge\"")]
    public async Task VerifyAsync_AudienceDoesNotMatch_BadAudience(string audience)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.BadAudience, await h.ErrorOfAsync(Token($"{Iss},{audience}")));
    }

    [Fact]
    public async Task VerifyAsync_AudienceAbsent_BadAudience()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.BadAudience, await h.ErrorOfAsync(Token(Iss)));
    }

    [Theory]
    [InlineData("[\"edge\",5]")]
    [InlineData("[5,\"edge\"]")]
    [InlineData("[\"edge\",null]")]
    [InlineData("[\"edge\",[\"edge\"]]")]
    [InlineData("[\"edge\",{}]")]
    [InlineData("5")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{\"aud\":\"edge\"}")]
    public async Task VerifyAsync_AudienceNotStringOrArrayOfStrings_MalformedToken(string value)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token($"{Iss},\"aud\":{value}")));
    }

    [Fact]
    public async Task VerifyAsync_AnyAudience_AcceptsAnyOrNone()
    {
        using var h = new VerifierHarness(o =>
        {
            o.Audiences = [];
            o.AnyAudience = true;
        });

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},\"aud\":\"someone\"")));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},\"aud\":[]")));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(Iss)));
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token($"{Iss},\"aud\":[1]")));
    }

    [Fact]
    public async Task VerifyAsync_RequiredClaimsAllPresent_Valid()
    {
        using var h = new VerifierHarness(o => o.RequiredClaims = ["scope", "tenant"]);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"tenant\":\"t1\",\"scope\":\"read\"")));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"tenant\":null,\"scope\":[]")));
    }

    [Theory]
    [InlineData("\"scope\":\"read\"")]
    [InlineData("\"tenant\":\"t1\"")]
    [InlineData("\"Scope\":\"read\",\"tenant\":\"t1\"")]
    [InlineData("\"obj\":{\"scope\":\"read\"},\"tenant\":\"t1\"")]
    [InlineData("\"arr\":[\"scope\"],\"tenant\":\"t1\"")]
    [InlineData("\"x\":\"scope\",\"tenant\":\"t1\"")]
    public async Task VerifyAsync_RequiredClaimMissingAtTopLevel_MissingClaim(string members)
    {
        using var h = new VerifierHarness(o => o.RequiredClaims = ["scope", "tenant"]);

        Assert.Equal(VerifyError.MissingClaim, await h.ErrorOfAsync(Token($"{Iss},{Aud},{members}")));
    }

    [Fact]
    public async Task VerifyAsync_ThirtyTwoRequiredClaims_AllChecked()
    {
        var names = Enumerable.Range(0, 32).Select(i => "c" + i).ToArray();
        using var h = new VerifierHarness(o => o.RequiredClaims = names);
        var all = string.Join(",", names.Select(n => $"\"{n}\":1"));
        var allButLast = string.Join(",", names[..^1].Select(n => $"\"{n}\":1"));

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{Aud},{all}")));
        Assert.Equal(VerifyError.MissingClaim, await h.ErrorOfAsync(Token($"{Iss},{Aud},{allButLast}")));
    }

    [Theory]
    [InlineData("exp", "1")]
    [InlineData("nbf", "1")]
    [InlineData("iat", "1")]
    [InlineData("iss", $"\"{TestTokens.Issuer}\"")]
    [InlineData("aud", $"\"{TestTokens.Audience}\"")]
    [InlineData("sub", "\"someone\"")]
    [InlineData("\\u0065xp", "1")]
    [InlineData("\\u0069ss", "\"https://evil.test\"")]
    public async Task VerifyAsync_DuplicateRegisteredClaim_MalformedToken(string name, string value)
    {
        // Two exp (or iss, …) invite parser differentials: the first and the last both "win" somewhere.
        using var h = new VerifierHarness();
        var payload = $"{{{Iss},{Aud},\"sub\":\"user-1\",\"nbf\":{T - 10},\"iat\":{T - 10},\"exp\":{T + 3600},\"{name}\":{value}}}";

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), payload)));
    }

    [Fact]
    public async Task VerifyAsync_DuplicateUnregisteredClaim_Allowed()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"x\":1,\"x\":2")));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("null")]
    [InlineData("[\"a\"]")]
    public async Task VerifyAsync_SubjectNotAString_MalformedToken(string value)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"sub\":{value}")));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    [InlineData("{")]
    [InlineData("{}{}")]
    [InlineData("{\"exp\":1} {}")]
    [InlineData("{\"a\":}")]
    public async Task VerifyAsync_SignedPayloadNotOneJsonObject_MalformedToken(string payload)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), payload)));
    }

    [Theory]
    [InlineData("sub")]
    [InlineData("email")]
    public async Task VerifyAsync_SignedPayloadWithInvalidTextInRead_MalformedTokenNotException(string claim)
    {
        using var h = new VerifierHarness(o => o.ClaimHeaders = new() { ["email"] = "X-Email" });
        var payload = $"{{{Iss},{Aud},\"exp\":{T + 3600},\"{claim}\":\"\\ud800\"}}";

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), payload)));
    }

    [Fact]
    public async Task VerifyAsync_SignedPayloadWithRawInvalidUtf8Subject_MalformedToken()
    {
        using var h = new VerifierHarness();
        byte[] payload = [.. Encoding.UTF8.GetBytes($"{{{Iss},{Aud},\"exp\":{T + 3600},\"sub\":\"a"), 0xff, 0xc3, .. "\"}"u8];

        var token = TokenWriter.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Encoding.UTF8.GetBytes(Jws.Header("ES256", "k-ES256")), payload);

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_ClaimHeaders_CaptureScalarsAndStringArrays()
    {
        using var h = new VerifierHarness(o => o.ClaimHeaders = new()
        {
            ["email"] = "X-Email",
            ["level"] = "X-Level",
            ["ratio"] = "X-Ratio",
            ["admin"] = "X-Admin",
            ["off"] = "X-Off",
            ["roles"] = "X-Roles",
            ["one"] = "X-One",
            ["mixed"] = "X-Mixed",
            ["obj"] = "X-Obj",
            ["empty"] = "X-Empty",
            ["nothing"] = "X-Nothing",
            ["absent"] = "X-Absent",
            ["sub"] = "X-Sub-Copy",
            ["aud"] = "X-Aud",
        });
        var members = "\"sub\":\"user-1\",\"email\":\"a\\u0040b.test\",\"level\":42,\"ratio\":-1.5e2,\"admin\":true,\"off\":false,"
            + "\"roles\":[\"reader\",\"writer\"],\"one\":[\"solo\"],\"mixed\":[\"a\",1],\"obj\":{\"a\":\"b\"},\"empty\":[],\"nothing\":null,"
            + $"\"aud\":[\"x\",\"{TestTokens.Audience}\"],{Iss}";

        var result = await h.VerifyAsync(Token(members));

        Assert.Equal(VerifyError.None, result.Error);
        var values = HeaderMap(h, result);
        Assert.Equal("a@b.test", values["X-Email"]);
        Assert.Equal("42", values["X-Level"]);
        Assert.Equal("-1.5e2", values["X-Ratio"]);
        Assert.Equal("true", values["X-Admin"]);
        Assert.Equal("false", values["X-Off"]);
        Assert.Equal("reader,writer", values["X-Roles"]);
        Assert.Equal("solo", values["X-One"]);
        Assert.Null(values["X-Mixed"]);
        Assert.Null(values["X-Obj"]);
        Assert.Null(values["X-Empty"]);
        Assert.Null(values["X-Nothing"]);
        Assert.Null(values["X-Absent"]);
        Assert.Equal("user-1", values["X-Sub-Copy"]);
        Assert.Equal("x," + TestTokens.Audience, values["X-Aud"]);
        Assert.Equal("user-1", result.Token!.Subject);
    }

    [Fact]
    public async Task VerifyAsync_NoClaimHeadersConfigured_NoHeaderValues()
    {
        using var h = new VerifierHarness();

        var result = await h.VerifyAsync(Token($"{Iss},{Aud},\"email\":\"a@b.test\""));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Null(result.Token!.HeaderValues);
    }

    [Fact]
    public async Task VerifyAsync_IncludePayload_ReturnsDecodedPayloadBytes()
    {
        using var h = new VerifierHarness();
        var payload = TestTokens.Payload(h.Time.GetUtcNow(), extra: "\"x\":\"y\"");
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), payload);

        Assert.Equal(payload, Encoding.UTF8.GetString((await h.VerifyAsync(token, includePayload: true)).Token!.Payload!));
        Assert.Null((await h.VerifyAsync(token)).Token!.Payload);
    }

    private static Dictionary<string, string?> HeaderMap(VerifierHarness h, VerifyResult result)
    {
        var names = h.Verifier.Policy.Claims.HeaderNames;
        var values = result.Token!.HeaderValues;
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            map[names[i]] = values?[i];
        }

        return map;
    }

    [Fact]
    public async Task VerifyAsync_HeaderMappedClaimTwice_MalformedToken()
    {
        // Proxy and upstream could each pick a different value of a duplicated claim.
        using var h = new VerifierHarness(o => o.ClaimHeaders = new() { ["role"] = "X-Auth-Role" });

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"role\":\"user\"")));
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"role\":\"user\",\"role\":\"admin\"")));
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"role\":\"user\",\"r\\u006fle\":\"admin\"")));
    }

    [Fact]
    public async Task VerifyAsync_RequiredClaimTwice_MalformedToken()
    {
        using var h = new VerifierHarness(o => o.RequiredClaims = ["tenant"]);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"tenant\":\"a\"")));
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"tenant\":\"a\",\"tenant\":\"b\"")));
    }

    [Fact]
    public async Task VerifyAsync_UnmappedClaimTwice_StillAccepted()
    {
        // Only claims the verifier acts on are checked for duplicates; others pass through untouched.
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token($"{Iss},{Aud},\"x\":1,\"x\":2")));
    }
}
