using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>
/// Deterministic refusals remembered by exact token text: kept only while the kid resolves to the
/// same key and the clock has not gone back; never for answers that can change (unknown kid, not yet valid).
/// </summary>
public sealed class RefusedTokenCacheTests
{
    private static (VerifierHarness Harness, TokenVerifier Verifier, RefusedTokenCache Refused, VerifiedTokenCache Verified) Rig(int entries = 100, TimeProvider? time = null)
    {
        var harness = new VerifierHarness();
        var refused = new RefusedTokenCache(entries);
        var verified = new VerifiedTokenCache(100, TimeSpan.FromSeconds(harness.Options.ClockSkewSeconds));
        return (harness, new TokenVerifier(harness.Verifier.Policy, harness.Resolver, time ?? harness.Time, verified, refused), refused, verified);
    }

    private static string Forged(DateTimeOffset now, string sub = "user-1") =>
        TestTokens.Sign(TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256"), TestTokens.Payload(now, sub: sub));

    [Fact]
    public async Task VerifyAsync_SameForgeryTwice_RefusedBothTimesAndRememberedOnce()
    {
        var (h, verifier, refused, verified) = Rig();
        using var _ = h;
        var forged = Forged(h.Time.GetUtcNow());

        var first = await verifier.VerifyAsync(forged.AsMemory());
        var second = await verifier.VerifyAsync(forged.AsMemory());

        Assert.Equal(VerifyError.BadSignature, first.Error);
        Assert.Equal(VerifyError.BadSignature, second.Error);
        Assert.Equal("k-ES256", second.Kid);
        Assert.Equal(1, refused.Count);
        Assert.Equal(0, verified.Count);
    }

    [Fact]
    public async Task VerifyAsync_KeyReplacedByTheSigner_RememberedRefusalDroppedAndTokenVerifies()
    {
        var (h, verifier, refused, _) = Rig();
        using var __ = h;
        var signer = TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256");
        var token = TestTokens.Sign(signer, TestTokens.Payload(h.Time.GetUtcNow()));
        Assert.Equal(VerifyError.BadSignature, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(1, refused.Count);

        h.ReplacePublicKey("k-ES256", signer);

        Assert.True(await Eventually.TrueAsync(async () => (await verifier.VerifyAsync(token.AsMemory())).IsValid));
        Assert.Equal(0, refused.Count);
    }

    [Fact]
    public async Task VerifyAsync_ExpiredThenClockGoesBack_VerifiedAfresh()
    {
        var clock = new SettableClock(VerifierHarness.Start);
        var (h, verifier, refused, _) = Rig(time: clock);
        using var _ = h;
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(clock.GetUtcNow(), TimeSpan.FromMinutes(5)));

        clock.Now = VerifierHarness.Start.AddMinutes(10);
        Assert.Equal(VerifyError.Expired, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(VerifyError.Expired, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(1, refused.Count);

        clock.Now = VerifierHarness.Start.AddMinutes(1);

        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);
        Assert.Equal(0, refused.Count);
    }

    [Fact]
    public async Task VerifyAsync_NotYetValid_NotRememberedAndAcceptedOnceValid()
    {
        var (h, verifier, refused, _) = Rig();
        using var _ = h;
        var nbf = h.Time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(h.Time.GetUtcNow(), extra: $"\"nbf\":{nbf}"));

        Assert.Equal(VerifyError.NotYetValid, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(0, refused.Count);

        h.Time.Advance(TimeSpan.FromMinutes(10));

        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);
    }

    [Fact]
    public async Task VerifyAsync_UnknownKid_NotRemembered()
    {
        var (h, verifier, refused, _) = Rig();
        using var _ = h;
        var token = TestTokens.Sign(TestKeys.Fresh(SigningAlgorithm.ES256, "k-nobody"), TestTokens.Payload(h.Time.GetUtcNow()));

        Assert.Equal(VerifyError.UnknownKid, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(0, refused.Count);
    }

    [Fact]
    public async Task VerifyAsync_WrongIssuer_RememberedWithItsCode()
    {
        var (h, verifier, refused, _) = Rig();
        using var _ = h;
        var payload = TestTokens.Payload(h.Time.GetUtcNow()).Replace(TestTokens.Issuer, "https://elsewhere.test", StringComparison.Ordinal);
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), payload);

        Assert.Equal(VerifyError.BadIssuer, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(VerifyError.BadIssuer, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(1, refused.Count);
    }

    [Fact]
    public async Task VerifyAsync_ManyDistinctForgeries_BoundedAndVerifiedTokensKept()
    {
        var (h, verifier, refused, verified) = Rig(entries: 10);
        using var _ = h;
        var good = TestTokens.Valid(SigningAlgorithm.HS256, h.Time.GetUtcNow());
        Assert.True((await verifier.VerifyAsync(good.AsMemory())).IsValid);

        for (var i = 0; i < 35; i++)
        {
            Assert.Equal(VerifyError.BadSignature, (await verifier.VerifyAsync(Forged(h.Time.GetUtcNow(), "user-" + i).AsMemory())).Error);
            Assert.InRange(refused.Count, 1, 10);
        }

        Assert.Equal(1, verified.Count);
        Assert.True((await verifier.VerifyAsync(good.AsMemory())).IsValid);
    }

    [Fact]
    public async Task VerifyAsync_KidMovesFromAKidlessKeyToAnEarlierSource_BothCachesFollowTheKid()
    {
        // Two sources in order: one that will later publish "k-late", then a key without a kid, which
        // answers any kid (and is the default key). A cache hit must resolve the header's kid again,
        // as a fresh verification does, not the verifying key's own (absent) kid, i.e. the default key.
        var signer = TestKeys.Fresh(SigningAlgorithm.ES256, "k-late");
        var kidless = KeyOf(signer.PublicJwk with { Kid = null });
        var first = new StubKeySource(KeyLookup.NotFound);
        var second = new StubKeySource(KeyLookup.Found(kidless), defaultKey: KeyLookup.Found(kidless));
        using var resolver = new KeyResolver([first, second]);
        using var h = new VerifierHarness();
        var verified = new VerifiedTokenCache(100, TimeSpan.FromSeconds(h.Options.ClockSkewSeconds));
        var refused = new RefusedTokenCache(100);
        var verifier = new TokenVerifier(h.Verifier.Policy, resolver, h.Time, verified, refused);
        var token = TestTokens.Sign(signer, TestTokens.Payload(h.Time.GetUtcNow()));

        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);
        Assert.Equal(1, verified.Count);

        // The first source now publishes k-late as another key: the token no longer verifies.
        first.Cached = first.Resolved = KeyLookup.Found(KeyOf(TestKeys.Fresh(SigningAlgorithm.ES256, "k-late").PublicJwk));
        Assert.Equal(VerifyError.BadSignature, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(VerifyError.BadSignature, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(1, refused.Count);

        // Withdrawn again: the kid-less key answers once more, and the remembered refusal must not.
        first.Cached = first.Resolved = KeyLookup.NotFound;
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);
    }

    private static VerificationKey KeyOf(Jwk publicJwk) => JwkReader.FromJwk(publicJwk).Keys![0];

    [Fact]
    public async Task VerifyAsync_KeyAlgMismatch_RememberedThenDroppedWhenTheKeyIsReplaced()
    {
        var (h, verifier, refused, _) = Rig();
        using var _ = h;

        // An ES256 token naming the RS256 key's kid, signed by the ES256 key that will replace it.
        var replacement = TestKeys.Fresh(SigningAlgorithm.ES256, "k-RS256");
        var token = TestTokens.Sign(replacement, TestTokens.Payload(h.Time.GetUtcNow()));
        Assert.Equal(VerifyError.KeyAlgMismatch, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(VerifyError.KeyAlgMismatch, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(1, refused.Count);

        h.ReplacePublicKey("k-RS256", replacement);

        Assert.True(await Eventually.TrueAsync(async () => (await verifier.VerifyAsync(token.AsMemory())).IsValid));
    }

    [Fact]
    public async Task VerifyAsync_PayloadNotJsonOrAudienceWrongOrClaimMissing_EachRememberedWithItsCode()
    {
        var (h, verifier, refused, _) = Rig();
        using var _ = h;
        var key = TestKeys.For(SigningAlgorithm.ES256);
        var now = h.Time.GetUtcNow();
        var cases = new (string Token, VerifyError Error)[]
        {
            (TestTokens.Sign(key, "{\"iss\":"), VerifyError.MalformedToken),
            (TestTokens.Sign(key, TestTokens.Payload(now).Replace("\"aud\":\"edge\"", "\"aud\":\"other\"", StringComparison.Ordinal)), VerifyError.BadAudience),
            (TestTokens.Sign(key, $"{{\"iss\":\"{TestTokens.Issuer}\",\"aud\":\"{TestTokens.Audience}\",\"sub\":\"u\"}}"), VerifyError.MissingClaim),
        };

        foreach (var (token, error) in cases)
        {
            Assert.Equal(error, (await verifier.VerifyAsync(token.AsMemory())).Error);
            Assert.Equal(error, (await verifier.VerifyAsync(token.AsMemory(), includePayload: true)).Error);
        }

        Assert.Equal(cases.Length, refused.Count);
    }

    [Fact]
    public async Task VerifyAsync_ExpiredThenClockMovesOn_StillExpired()
    {
        var (h, verifier, refused, _) = Rig();
        using var _ = h;
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(h.Time.GetUtcNow(), TimeSpan.FromMinutes(5)));
        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(VerifyError.Expired, (await verifier.VerifyAsync(token.AsMemory())).Error);

        h.Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(VerifyError.Expired, (await verifier.VerifyAsync(token.AsMemory())).Error);
        Assert.Equal(1, refused.Count);
    }

    [Fact]
    public void Keeps_OnlyAnswersTheTokenAndKeyDecide()
    {
        Assert.True(RefusedTokenCache.Keeps(VerifyError.BadSignature));
        Assert.True(RefusedTokenCache.Keeps(VerifyError.Expired));
        Assert.True(RefusedTokenCache.Keeps(VerifyError.BadAudience));
        Assert.False(RefusedTokenCache.Keeps(VerifyError.NotYetValid));
        Assert.False(RefusedTokenCache.Keeps(VerifyError.UnknownKid));
        Assert.False(RefusedTokenCache.Keeps(VerifyError.KeySourceUnavailable));
        Assert.False(RefusedTokenCache.Keeps(VerifyError.None));
    }

    /// <summary>A clock that may be set backwards (FakeTimeProvider refuses to go back in time).</summary>
    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
