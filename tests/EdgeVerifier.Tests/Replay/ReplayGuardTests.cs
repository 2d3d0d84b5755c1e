using EdgeVerifier.Replay;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Replay;

/// <summary>
/// <see cref="ReplayGuard.Check"/> after a token verified: the DPoP scheme and binding, one-time
/// tokens, the clock-skew warning, ring-full bookkeeping and the ring-reset policy.
/// </summary>
public sealed class ReplayGuardTests : IDisposable
{
    private const string Url = "https://api.example.com/orders";

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(VerifierHarness.Start);
    private readonly CapturingLogger _log = new();
    private readonly List<ReplayGuard> _guards = [];

    public void Dispose()
    {
        foreach (var guard in _guards)
        {
            guard.Dispose();
        }

        _dir.Dispose();
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private ReplayGuard Guard(Action<DpopOptions>? dpop = null, bool oneTime = false, NonceRing? ring = null)
    {
        var options = new DpopOptions();
        dpop?.Invoke(options);
        var guard = new ReplayGuard(ring ?? NonceRing.Open(_dir.File($"g{_guards.Count}.ring"), 4096, Now), options, oneTime, tokenClockSkewSeconds: 60, allowedAlgorithms: -1, flushIntervalSeconds: 1, _time, _log);
        _guards.Add(guard);
        return guard;
    }

    private static VerifiedToken Verified(string? jkt = null, string? jti = null, string issuer = TestTokens.Issuer, double exp = double.NaN) => new()
    {
        Subject = "user-1",
        Issuer = issuer,
        Jti = jti,
        ConfirmationThumbprint = jkt,
        ExpiresAt = exp,
    };

    private GuardResult CheckDpop(ReplayGuard guard, string token, DpopProof proof, string method = "GET", string? url = Url) =>
        guard.Check(Verified(DpopTokens.Thumbprint(DpopTokens.ClientKey)), AuthScheme.DPoP, token, new StringValues(proof.Sign()), method, url);

    private int SkewWarnings => _log.Entries.Count(e => e.Id.Id == 72);

    [Fact]
    public void Check_ValidProofBoundToItsKey_Ok()
    {
        var guard = Guard();
        var token = DpopTokens.Bound(Now);

        var result = CheckDpop(guard, token, DpopTokens.Proof(token, "GET", Url, Now));

        Assert.True(result.IsValid);
        Assert.Equal(DpopFailure.None, result.Failure);
    }

    [Fact]
    public void Check_ProofKeyIsNotTheBoundKey_DpopInvalidWrongKey()
    {
        var guard = Guard();
        var token = DpopTokens.Bound(Now);

        var result = CheckDpop(guard, token, DpopTokens.Proof(token, "GET", Url, Now, DpopTokens.OtherClientKey));

        Assert.Equal(new GuardResult(VerifyError.DpopInvalid, DpopFailure.WrongKey), result);
    }

    [Fact]
    public void Check_BoundTokenPresentedAsBearer_DpopRequired()
    {
        var guard = Guard();

        var result = guard.Check(Verified("jkt"), AuthScheme.Bearer, "t", StringValues.Empty, "GET", Url);

        Assert.Equal(new GuardResult(VerifyError.DpopRequired, DpopFailure.None), result);
    }

    [Fact]
    public void Check_UnboundTokenAsBearer_Ok()
    {
        Assert.True(Guard().Check(Verified(), AuthScheme.Bearer, "t", StringValues.Empty, "GET", Url).IsValid);
    }

    [Fact]
    public void Check_DpopSchemeTokenWithoutCnfJkt_DpopInvalidNotBound()
    {
        var guard = Guard();
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", Url, Now).Sign();

        var result = guard.Check(Verified(jkt: null), AuthScheme.DPoP, token, new StringValues(proof), "GET", Url);

        Assert.Equal(new GuardResult(VerifyError.DpopInvalid, DpopFailure.NotBound), result);
    }

    [Fact]
    public void Check_DpopDisabled_DpopSchemeRefusedBoundBearerStillRequiresDpop()
    {
        var guard = Guard(o => o.Enabled = false, oneTime: true);
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", Url, Now).Sign();

        Assert.Equal(new GuardResult(VerifyError.DpopInvalid, DpopFailure.Missing), guard.Check(Verified("jkt"), AuthScheme.DPoP, token, new StringValues(proof), "GET", Url));
        Assert.Equal(new GuardResult(VerifyError.DpopRequired, DpopFailure.None), guard.Check(Verified("jkt"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Check_NoneEmptyOrTwoProofHeaders_DpopInvalid(int kind)
    {
        var guard = Guard();
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", Url, Now).Sign();
        var (values, failure) = kind switch
        {
            0 => (StringValues.Empty, DpopFailure.Missing),
            1 => (new StringValues(string.Empty), DpopFailure.Missing),
            _ => (new StringValues([proof, proof]), DpopFailure.Multiple),
        };

        Assert.Equal(new GuardResult(VerifyError.DpopInvalid, failure), guard.Check(Verified("jkt"), AuthScheme.DPoP, token, values, "GET", Url));
    }

    [Fact]
    public void Check_RequestUrlUnknown_DpopInvalidHtu()
    {
        var guard = Guard();
        var token = DpopTokens.Bound(Now);

        Assert.Equal(new GuardResult(VerifyError.DpopInvalid, DpopFailure.Htu), CheckDpop(guard, token, DpopTokens.Proof(token, "GET", Url, Now), url: null));
    }

    [Fact]
    public void Check_ReplayedProof_ReplayedWithProofFailure()
    {
        var guard = Guard();
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", Url, Now);

        Assert.True(CheckDpop(guard, token, proof).IsValid);
        Assert.Equal(new GuardResult(VerifyError.Replayed, DpopFailure.Replayed), CheckDpop(guard, token, proof));
    }

    [Theory]
    [InlineData(-40, false)]
    [InlineData(-41, true)]
    [InlineData(5, false)]
    [InlineData(-59, true)]
    [InlineData(-70, true)]
    public void Check_ClientClockSkew_WarnsPastTwoThirdsOfTheWindow(int skew, bool warns)
    {
        // Default window 60 s: the threshold is 40 s. Skew is measured whether or not the proof passes.
        var guard = Guard();
        _time.Advance(TimeSpan.FromMinutes(5));
        var token = DpopTokens.Bound(Now);
        using var metrics = new MetricRecorder();

        CheckDpop(guard, token, DpopTokens.Proof(token, "GET", Url, Now) with { Iat = Now.ToUnixTimeSeconds() + skew });

        Assert.Equal(warns ? 1 : 0, SkewWarnings);
        if (warns)
        {
            var entry = Assert.Single(_log.Entries, e => e.Id.Id == 72);
            Assert.Equal(LogLevel.Warning, entry.Level);
            Assert.Contains($"{skew}.0 s", entry.Message, StringComparison.Ordinal);
            Assert.True(metrics.Total("edgeverifier.dpop.clock_skew_warnings") >= 1);
        }
    }

    [Fact]
    public void Check_SkewWarningConfigured_ThresholdIsTheSetting()
    {
        var guard = Guard(o => o.SkewWarningSeconds = 10);
        _time.Advance(TimeSpan.FromMinutes(5));
        var token = DpopTokens.Bound(Now);

        CheckDpop(guard, token, DpopTokens.Proof(token, "GET", Url, Now) with { Iat = Now.ToUnixTimeSeconds() - 10 });
        Assert.Equal(0, SkewWarnings);

        CheckDpop(guard, token, DpopTokens.Proof(token, "GET", Url, Now) with { Iat = Now.ToUnixTimeSeconds() - 11 });
        Assert.Equal(1, SkewWarnings);
    }

    [Fact]
    public void Check_OneTimeTokenUsedTwice_SecondReplayed()
    {
        var guard = Guard(oneTime: true);
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now);

        Assert.True(guard.Check(Verified(jti: "t-1"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url).IsValid);
        Assert.Equal(new GuardResult(VerifyError.Replayed, DpopFailure.None), guard.Check(Verified(jti: "t-1"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url));
        Assert.True(guard.Check(Verified(jti: "t-2"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url).IsValid);
    }

    [Fact]
    public void Check_OneTimeSameJtiFromTwoIssuers_BothOk()
    {
        var guard = Guard(oneTime: true);
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now);

        Assert.True(guard.Check(Verified(jti: "same", issuer: "https://a.test"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url).IsValid);
        Assert.True(guard.Check(Verified(jti: "same", issuer: "https://b.test"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url).IsValid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Check_OneTimeTokenWithoutJti_MissingClaim(string? jti)
    {
        var guard = Guard(oneTime: true);
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now);

        Assert.Equal(new GuardResult(VerifyError.MissingClaim, DpopFailure.None), guard.Check(Verified(jti: jti), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url));
    }

    [Fact]
    public void Check_OneTimeTokenWithoutIat_MissingClaim()
    {
        // Without iat the ring-reset policy (refuse tokens issued before the ring) cannot be applied.
        var guard = Guard(oneTime: true);
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), $"{{\"iss\":\"{TestTokens.Issuer}\",\"aud\":\"{TestTokens.Audience}\",\"sub\":\"u\",\"exp\":{Now.ToUnixTimeSeconds() + 600},\"jti\":\"x\"}}");

        Assert.Equal(new GuardResult(VerifyError.MissingClaim, DpopFailure.None), guard.Check(Verified(jti: "x"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url));
    }

    [Fact]
    public void Check_OneTimeTokenIssuedBeforeTheRing_Replayed()
    {
        // The ring knows nothing used before it was created: such a token may already have been used.
        var guard = Guard(oneTime: true);
        var before = TestTokens.Valid(SigningAlgorithm.ES256, Now.AddSeconds(-1));
        var after = TestTokens.Valid(SigningAlgorithm.ES256, Now);

        Assert.Equal(new GuardResult(VerifyError.Replayed, DpopFailure.None), guard.Check(Verified(jti: "b"), AuthScheme.Bearer, before, StringValues.Empty, "GET", Url));
        Assert.True(guard.Check(Verified(jti: "a"), AuthScheme.Bearer, after, StringValues.Empty, "GET", Url).IsValid);
    }

    [Fact]
    public void Check_OneTimeTokenExpired_JtiRememberedUntilExpPlusSkew()
    {
        var guard = Guard(oneTime: true);
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now);
        var exp = Now.ToUnixTimeSeconds() + 600;

        Assert.True(guard.Check(Verified(jti: "e", exp: exp), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url).IsValid);
        _time.Advance(TimeSpan.FromSeconds(600 + 60));
        Assert.Equal(VerifyError.Replayed, guard.Check(Verified(jti: "e", exp: exp), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url).Error);
    }

    [Fact]
    public void Check_DpopAndOneTime_BothApply()
    {
        var guard = Guard(oneTime: true);
        var token = DpopTokens.Bound(Now, extra: "\"jti\":\"both\"");
        var verified = Verified(DpopTokens.Thumbprint(DpopTokens.ClientKey), jti: "both");

        var first = guard.Check(verified, AuthScheme.DPoP, token, new StringValues(DpopTokens.Proof(token, "GET", Url, Now).Sign()), "GET", Url);
        var second = guard.Check(verified, AuthScheme.DPoP, token, new StringValues(DpopTokens.Proof(token, "GET", Url, Now).Sign()), "GET", Url);

        Assert.True(first.IsValid);
        Assert.Equal(new GuardResult(VerifyError.Replayed, DpopFailure.None), second);
    }

    [Fact]
    public void RecentlyFull_NeverFull_False()
    {
        var guard = Guard();

        Assert.False(guard.RecentlyFull);
        _time.Advance(TimeSpan.FromMinutes(1)); // (each simulated second runs the 1 s flush timer)
        Assert.False(guard.RecentlyFull);
    }

    [Fact]
    public void Check_RingFull_ReplayStoreFullForTenSecondsLoggedAndCounted()
    {
        var ring = RingFile.OpenSeeded(_dir.File("full.ring"), 1024, Now, keySeed: 3);
        var now = Now.ToUnixTimeSeconds();
        for (var i = 0; i < 300_000 && ring.CountLive(now) < ring.Capacity; i++)
        {
            ring.TryAdd(System.Text.Encoding.UTF8.GetBytes("fill" + i), now + 600, now);
        }

        var guard = Guard(oneTime: true, ring: ring);
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now);
        using var metrics = new MetricRecorder();

        var result = guard.Check(Verified(jti: "late"), AuthScheme.Bearer, token, StringValues.Empty, "GET", Url);

        Assert.Equal(new GuardResult(VerifyError.ReplayStoreFull, DpopFailure.None), result);
        Assert.True(guard.RecentlyFull);
        Assert.Contains(_log.Entries, e => e.Id.Id == 71 && e.Level == LogLevel.Error);
        Assert.True(metrics.Total("edgeverifier.replay.ring_full") >= 1);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(guard.RecentlyFull);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(guard.RecentlyFull);
    }

    [Fact]
    public void Constructor_RingCreatedAnew_WarnsWithReasonAndCreationTime()
    {
        File.WriteAllText(_dir.File("bad.ring"), "not a ring");

        Guard(ring: NonceRing.Open(_dir.File("bad.ring"), 1024, Now));

        var entry = Assert.Single(_log.Entries, e => e.Id.Id == 70);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains("truncated (10 bytes)", entry.Message, StringComparison.Ordinal);
        Assert.Contains(Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_RingReopenedIntact_NoWarning()
    {
        NonceRing.Open(_dir.File("ok.ring"), 1024, Now).Dispose();

        Guard(ring: NonceRing.Open(_dir.File("ok.ring"), 1024, Now));

        Assert.DoesNotContain(_log.Entries, e => e.Id.Id == 70);
    }
}
