using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>
/// One scenario per <see cref="VerifyError"/> code the token path can produce, each asserting
/// exactly that code (and, where it matters, that it is not produced for a nearby good token).
/// </summary>
public sealed class TokenVerifierErrorCodeTests
{
    private static string Payload(VerifierHarness h, string? extra = null) => TestTokens.Payload(h.Time.GetUtcNow(), extra: extra);

    private static string PayloadWithout(VerifierHarness h, string member)
    {
        var t = h.Time.GetUtcNow().ToUnixTimeSeconds();
        var members = new Dictionary<string, string>
        {
            ["iss"] = $"\"{TestTokens.Issuer}\"",
            ["aud"] = $"\"{TestTokens.Audience}\"",
            ["sub"] = "\"user-1\"",
            ["iat"] = t.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["exp"] = (t + 3600).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        members.Remove(member);
        return "{" + string.Join(",", members.Select(m => $"\"{m.Key}\":{m.Value}")) + "}";
    }

    [Fact]
    public void Codes_EveryTokenPathError_HasItsStableCode()
    {
        // Clients and dashboards depend on these strings (DESIGN.md "Every error carries a stable machine code").
        var expected = new Dictionary<VerifyError, string>
        {
            [VerifyError.MissingToken] = "missing_token",
            [VerifyError.MultipleTokens] = "multiple_tokens",
            [VerifyError.MalformedToken] = "malformed_token",
            [VerifyError.TokenTooLarge] = "token_too_large",
            [VerifyError.UnsupportedAlg] = "unsupported_alg",
            [VerifyError.UnsupportedCrit] = "unsupported_crit",
            [VerifyError.InvalidTyp] = "invalid_typ",
            [VerifyError.MissingKid] = "missing_kid",
            [VerifyError.InvalidKid] = "invalid_kid",
            [VerifyError.UnknownKid] = "unknown_kid",
            [VerifyError.KeyAlgMismatch] = "key_alg_mismatch",
            [VerifyError.BadSignature] = "bad_signature",
            [VerifyError.Expired] = "expired",
            [VerifyError.NotYetValid] = "not_yet_valid",
            [VerifyError.BadIssuer] = "bad_issuer",
            [VerifyError.BadAudience] = "bad_audience",
            [VerifyError.MissingClaim] = "missing_claim",
            [VerifyError.KeySourceUnavailable] = "key_source_unavailable",
            [VerifyError.InsufficientScope] = "insufficient_scope",
            [VerifyError.PathNotAllowed] = "path_not_allowed",
            [VerifyError.InactiveToken] = "inactive_token",
            [VerifyError.IntrospectionUnavailable] = "introspection_unavailable",
            [VerifyError.Revoked] = "revoked",
            [VerifyError.RevocationListStale] = "revocation_list_stale",
            [VerifyError.UnknownSubject] = "unknown_subject",
        };

        foreach (var (error, code) in expected)
        {
            Assert.Equal(code, error.Code());
            Assert.True(VerifyErrors.TryParse(code, out var parsed));
            Assert.Equal(error, parsed);
            Assert.False(string.IsNullOrEmpty(error.Message()));
            var status = error switch
            {
                VerifyError.KeySourceUnavailable or VerifyError.IntrospectionUnavailable or VerifyError.RevocationListStale => 503,
                VerifyError.InsufficientScope or VerifyError.PathNotAllowed => 403,
                _ => 401,
            };
            Assert.Equal(status, error.HttpStatus());
        }
    }

    [Fact]
    public async Task VerifyAsync_EmptyToken_MissingToken()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MissingToken, await h.ErrorOfAsync(""));
    }

    [Fact]
    public void FromAuthorization_NoBearerCredential_MissingToken()
    {
        Assert.Equal(VerifyError.MissingToken, CredentialExtractor.FromAuthorization(new StringValues("Basic x"), 8192, out _));
    }

    [Fact]
    public void FromAuthorization_RepeatedHeader_MultipleTokens()
    {
        Assert.Equal(VerifyError.MultipleTokens, CredentialExtractor.FromAuthorization(new StringValues(["Bearer a.b.c", "Bearer a.b.c"]), 8192, out _));
    }

    [Fact]
    public async Task VerifyAsync_NotThreeSegments_MalformedToken()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync("abc"));
    }

    [Fact]
    public async Task VerifyAsync_OverDefaultLimit_TokenTooLarge()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.TokenTooLarge, await h.ErrorOfAsync(new string('a', 8193)));
    }

    [Fact]
    public async Task VerifyAsync_UnknownAlgorithm_UnsupportedAlg()
    {
        using var h = new VerifierHarness();
        var token = Jws.SigningInput(Jws.Header("HS1", "k-HS256"), Payload(h)) + ".c2ln";

        Assert.Equal(VerifyError.UnsupportedAlg, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_CritHeader_UnsupportedCrit()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", "k-ES256", extra: "\"crit\":[\"exp\"],\"exp\":1"), Payload(h));

        Assert.Equal(VerifyError.UnsupportedCrit, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_DpopTyp_InvalidTyp()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", "k-ES256", typ: "dpop+jwt"), Payload(h));

        Assert.Equal(VerifyError.InvalidTyp, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_NoKidWithDirectorySource_MissingKid()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", kid: null), Payload(h));

        Assert.Equal(VerifyError.MissingKid, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_TraversalKid_InvalidKid()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", "../k-ES256"), Payload(h));

        Assert.Equal(VerifyError.InvalidKid, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_KidWithNoKeyFile_UnknownKid()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), Payload(h), kid: "nobody-here");

        var result = await h.VerifyAsync(token);

        Assert.Equal(VerifyError.UnknownKid, result.Error);
        Assert.Equal("nobody-here", result.Kid);
    }

    [Fact]
    public async Task VerifyAsync_EcdsaTokenNamingRsaKey_KeyAlgMismatch()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), Payload(h), kid: "k-RS256");

        Assert.Equal(VerifyError.KeyAlgMismatch, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_OtherKeySignature_BadSignature()
    {
        using var h = new VerifierHarness();
        using var impostor = TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256");

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(TestTokens.Sign(impostor, Payload(h))));
    }

    [Fact]
    public async Task VerifyAsync_PastExpiryAndSkew_Expired()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(h.Time.GetUtcNow(), TimeSpan.FromMinutes(5)));
        h.Time.Advance(TimeSpan.FromMinutes(6) + TimeSpan.FromSeconds(1));

        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_NotBeforeInFuture_NotYetValid()
    {
        using var h = new VerifierHarness();
        var nbf = h.Time.GetUtcNow().ToUnixTimeSeconds() + 600;
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), Payload(h, $"\"nbf\":{nbf}"));

        Assert.Equal(VerifyError.NotYetValid, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_WrongIssuer_BadIssuer()
    {
        using var h = new VerifierHarness(o => o.Issuers = ["https://other.test"]);

        Assert.Equal(VerifyError.BadIssuer, await h.ErrorOfAsync(TestTokens.Valid(SigningAlgorithm.ES256, h.Time.GetUtcNow())));
    }

    [Fact]
    public async Task VerifyAsync_WrongAudience_BadAudience()
    {
        using var h = new VerifierHarness(o => o.Audiences = ["somebody-else"]);

        Assert.Equal(VerifyError.BadAudience, await h.ErrorOfAsync(TestTokens.Valid(SigningAlgorithm.ES256, h.Time.GetUtcNow())));
    }

    [Fact]
    public async Task VerifyAsync_NoExp_MissingClaim()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), PayloadWithout(h, "exp"));

        Assert.Equal(VerifyError.MissingClaim, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_SourceUnavailableInCache_KeySourceUnavailable()
    {
        using var rig = new VerifierRig(new StubKeySource(KeyLookup.Unavailable));
        var token = TestTokens.Valid(SigningAlgorithm.ES256, rig.Time.GetUtcNow());

        var result = await rig.VerifyAsync(token);

        Assert.Equal(VerifyError.KeySourceUnavailable, result.Error);
        Assert.Equal("k-ES256", result.Kid);
        Assert.Equal(503, result.Error.HttpStatus());
    }

    [Fact]
    public async Task VerifyAsync_SourceMissThenUnavailable_KeySourceUnavailable()
    {
        using var rig = new VerifierRig(new StubKeySource(KeyLookup.Miss, resolved: KeyLookup.Unavailable));
        var token = TestTokens.Valid(SigningAlgorithm.ES256, rig.Time.GetUtcNow());

        Assert.Equal(VerifyError.KeySourceUnavailable, await rig.ErrorOfAsync(token));
        Assert.Equal(1, rig.Source.ResolveCalls);
    }

    [Fact]
    public async Task VerifyAsync_KeyFileUnreadable_KeySourceUnavailable()
    {
        // A real directory source whose {kid}.jwk cannot be read: here it is a directory, which
        // open(2) refuses even to root (file permissions would not stop root). Unreadable is not
        // proof the key is gone, so the answer is 503-class, not unknown_kid.
        using var keys = new TempDirectory();
        Directory.CreateDirectory(keys.File("k-ES256.jwk"));
        using var rig = new VerifierRig((loader, time) => new DirectoryKeySource(keys.Path, loader, time, TimeSpan.FromSeconds(5), 2048, NullLogger.Instance));

        Assert.Equal(VerifyError.KeySourceUnavailable, await rig.ErrorOfAsync(TestTokens.Valid(SigningAlgorithm.ES256, rig.Time.GetUtcNow())));
    }
}
