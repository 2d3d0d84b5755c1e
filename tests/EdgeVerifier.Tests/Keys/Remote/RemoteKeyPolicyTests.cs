using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Keys.Remote;

/// <summary>What a registry may never hand out, and what an unknown kid means while it fails.</summary>
public sealed class RemoteKeyPolicyTests
{
    [Fact]
    public async Task ResolveAsync_BaseUrlServesSymmetricKey_RefusedAndNeverCached()
    {
        await using var server = await KeyServer.StartAsync();
        var secret = TestKeys.Fresh(SigningAlgorithm.HS256, "k-hs");
        server.PutKey(secret);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.BaseAddress.AbsoluteUri + "keys/";
            o.Remote.MaxRetries = 0;
        });

        // A shared secret fetched over the network would let whoever serves it mint tokens.
        Assert.Equal(VerifyError.KeySourceUnavailable, await harness.VerifyKeyAsync(secret));
        await SettleAsync();
        Assert.Contains("symmetric", harness.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_JwksHoldsSymmetricKey_SkippedOthersServe()
    {
        await using var server = await KeyServer.StartAsync();
        var ec = Key("k-ec");
        var secret = TestKeys.Fresh(SigningAlgorithm.HS256, "k-hs");
        server.SetJwks(ec, secret);
        using var harness = new RemoteHarness(o => o.Keys = "jwks:" + server.JwksUrl);

        await harness.ExpectAsync(VerifyError.None, ec);
        await harness.ExpectAsync(VerifyError.UnknownKid, secret);
        Assert.Contains("symmetric", harness.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_UnknownKidWhileJwksRefreshFailing_UnavailableThroughoutCooldown()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.SetJwks(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.UnknownKidCooldownSeconds = 30;
            o.Remote.FailureCooldownSeconds = 10;
            o.Remote.MaxRetries = 0;
            o.Remote.BreakerMinimumThroughput = 1000;
        });
        await harness.ExpectAsync(VerifyError.None, key);

        // A recent set is authoritative: an unknown kid is "no".
        Assert.Equal(VerifyError.UnknownKid, (await harness.VerifyAsync(Unsigned("k-other", harness.Time.GetUtcNow()))).Error);

        // Past the cooldown the set is re-asked; the registry fails: now the answer is "cannot say",
        // the same for the first request and for every later one while the failure cooldown runs.
        server.Status = 500;
        harness.Advance(TimeSpan.FromSeconds(31));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(VerifyError.KeySourceUnavailable, (await harness.VerifyAsync(Unsigned("k-other", harness.Time.GetUtcNow()))).Error);
            harness.Advance(TimeSpan.FromSeconds(1));
        }

        // The known key keeps serving throughout.
        await harness.ExpectAsync(VerifyError.None, key);
    }
}
