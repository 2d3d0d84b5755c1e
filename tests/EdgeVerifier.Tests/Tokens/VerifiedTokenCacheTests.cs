using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>DESIGN.md step 4: exact-match cache of verified tokens, dying with key, exp or size.</summary>
public sealed class VerifiedTokenCacheTests
{
    private static (VerifierHarness Harness, TokenVerifier Verifier, VerifiedTokenCache Cache) Rig(int entries = 100)
    {
        var harness = new VerifierHarness();
        var cache = new VerifiedTokenCache(entries, TimeSpan.FromSeconds(harness.Options.ClockSkewSeconds));
        return (harness, new TokenVerifier(harness.Verifier.Policy, harness.Resolver, harness.Time, cache), cache);
    }

    [Fact]
    public async Task VerifyAsync_SameTokenTwice_SecondIsTheCachedResult()
    {
        var (h, verifier, cache) = Rig();
        using var _ = h;
        var token = TestTokens.Valid(SigningAlgorithm.ES256, h.Time.GetUtcNow());

        var first = await verifier.VerifyAsync(token.AsMemory());
        var second = await verifier.VerifyAsync(token.AsMemory());

        Assert.True(first.IsValid);
        Assert.Same(first.Token, second.Token);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task VerifyAsync_TokenWithOneCharacterChanged_NotServedFromCache()
    {
        var (h, verifier, _) = Rig();
        using var __ = h;
        var token = TestTokens.Valid(SigningAlgorithm.HS256, h.Time.GetUtcNow());
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);

        var parts = token.Split('.');
        var payload = parts[1].ToCharArray();
        payload[5] = payload[5] == 'A' ? 'B' : 'A';
        var altered = $"{parts[0]}.{new string(payload)}.{parts[2]}";

        Assert.NotEqual(VerifyError.None, (await verifier.VerifyAsync(altered.AsMemory())).Error);
    }

    [Fact]
    public async Task VerifyAsync_CachedTokenPastExp_Expired()
    {
        var (h, verifier, _) = Rig();
        using var __ = h;
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(h.Time.GetUtcNow(), TimeSpan.FromMinutes(5)));
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);

        h.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(59));
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(VerifyError.Expired, (await verifier.VerifyAsync(token.AsMemory())).Error);
    }

    [Fact]
    public async Task VerifyAsync_KeyFileDeleted_CachedTokenRefused()
    {
        var (h, verifier, _) = Rig();
        using var __ = h;
        var token = TestTokens.Valid(SigningAlgorithm.ES256, h.Time.GetUtcNow());
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);

        File.Delete(Path.Combine(h.Directory.Path, "k-ES256.jwk"));
        h.Time.Advance(TimeSpan.FromSeconds(h.Options.KeyRecheckSeconds + 1)); // the watcher or, at the latest, the recheck

        Assert.True(await Eventually.TrueAsync(async () => (await verifier.VerifyAsync(token.AsMemory())).Error == VerifyError.UnknownKid));
    }

    [Fact]
    public async Task VerifyAsync_KeyReplacedUnderSameKid_CachedTokenRefused()
    {
        var (h, verifier, _) = Rig();
        using var __ = h;
        var token = TestTokens.Valid(SigningAlgorithm.ES256, h.Time.GetUtcNow());
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);

        // Rotation by rename (atomic): a new key under the same kid.
        var replacement = TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256");
        h.ReplacePublicKey("k-ES256", replacement);

        Assert.True(await Eventually.TrueAsync(async () => (await verifier.VerifyAsync(token.AsMemory())).Error == VerifyError.BadSignature));
    }

    [Fact]
    public async Task VerifyAsync_ManyDistinctTokens_CacheStaysWithinBound()
    {
        var (h, verifier, cache) = Rig(entries: 10);
        using var __ = h;
        for (var i = 0; i < 35; i++)
        {
            var token = TestTokens.Valid(SigningAlgorithm.HS256, h.Time.GetUtcNow(), sub: "user-" + i);
            Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);
            Assert.InRange(cache.Count, 1, 10);
        }
    }

    [Fact]
    public async Task VerifyAsync_IncludePayload_BypassesCache()
    {
        var (h, verifier, cache) = Rig();
        using var __ = h;
        var token = TestTokens.Valid(SigningAlgorithm.ES256, h.Time.GetUtcNow());
        Assert.True((await verifier.VerifyAsync(token.AsMemory())).IsValid);

        var withPayload = await verifier.VerifyAsync(token.AsMemory(), includePayload: true);

        Assert.NotNull(withPayload.Token!.Payload);
        Assert.Equal(1, cache.Count);
    }
}
