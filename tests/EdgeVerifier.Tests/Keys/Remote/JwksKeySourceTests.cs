using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Xunit.Abstractions;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Keys.Remote;

public sealed class JwksKeySourceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ResolveAsync_JwksUrl_EveryKeyOfSetVerifiesWithOneFetch()
    {
        await using var server = await KeyServer.StartAsync();
        var ec = Key("k-ec");
        var rsa = TestKeys.For(SigningAlgorithm.RS256);
        server.SetJwks(ec, rsa);
        using var harness = new RemoteHarness(o => o.Keys = "jwks:" + server.JwksUrl);

        for (var i = 0; i < 5; i++)
        {
            await harness.ExpectAsync(VerifyError.None, ec);
            await harness.ExpectAsync(VerifyError.None, rsa);
        }

        await harness.ExpectAsync(VerifyError.UnknownKid, Key("k-none"));
        await SettleAsync();
        Assert.Equal(1, server.Count(KeyServer.JwksPath));
        Assert.True(harness.Resolver.Sources[0].Readiness.Ready);
        Assert.Contains(harness.Logs.WithId(6), e => e.Message.Contains("2 key(s)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData(KeyServer.DiscoveryPath)]
    public async Task ResolveAsync_OidcDiscovery_KeysFoundThroughJwksUri(string issuerSuffix)
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.SetJwks(key);
        using var harness = new RemoteHarness(o => o.Keys = "oidc:" + server.Issuer + issuerSuffix);

        await harness.ExpectAsync(VerifyError.None, key);
        await harness.ExpectAsync(VerifyError.None, key);

        Assert.Equal(1, server.Count(KeyServer.DiscoveryPath));
        Assert.Equal(1, server.Count(KeyServer.JwksPath));
        Assert.Equal(2, server.Total);
    }

    [Fact]
    public async Task ResolveAsync_OidcJwksUriElsewhere_FollowsDiscoveryDocument()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.Set("/other/keys.json", KeyServer.JwksJson(key));
        server.DiscoveryJwksUri = server.BaseAddress + "other/keys.json";
        using var harness = new RemoteHarness(o => o.Keys = "oidc:" + server.Issuer);

        await harness.ExpectAsync(VerifyError.None, key);
        Assert.Equal(1, server.Count("/other/keys.json"));
        Assert.Equal(0, server.Count(KeyServer.JwksPath));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("{\"jwks_uri\":5}")]
    [InlineData("{\"jwks_uri\":\"relative/keys.json\"}")]
    [InlineData("{\"jwks_uri\":\"http://keys.example/jwks.json\"}")] // plain http to a non-loopback host
    [InlineData("{\"jwks_uri\":\"ftp://127.0.0.1/jwks.json\"}")]
    public async Task ResolveAsync_BadDiscoveryDocument_UnavailableWithReason(string discovery)
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.SetJwks(key);
        server.Set(KeyServer.DiscoveryPath, discovery);
        using var harness = new RemoteHarness(o => o.Keys = "oidc:" + server.Issuer);

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        await harness.Logs.WaitForAsync(28);
        Assert.Equal(0, server.Count(KeyServer.JwksPath));
        Assert.False(harness.Resolver.Sources[0].Readiness.Ready);
    }

    public static TheoryData<string, string> InvalidSets()
    {
        var k1 = Key("k1");
        var privateJwk = JsonSerializer.Serialize(k1.PrivateJwk, JwkJsonContext.Default.Jwk);
        return new TheoryData<string, string>
        {
            { "not json", "<html>oops</html>" },
            { "empty", "" },
            { "keys not an array", "{\"keys\":5}" },
            { "no keys member", "{\"kty\":\"EC\"}" },
            { "array", "[]" },
            { "null entry", "{\"keys\":[null]}" },
            { "private key in set", "{\"keys\":[" + TestKeys.PublicJson(Key("k0")) + "," + privateJwk + "]}" },
            { "duplicate kid", "{\"keys\":[" + TestKeys.PublicJson(k1) + "," + TestKeys.PublicJson(Key("k1")) + "]}" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidSets))]
    public async Task ResolveAsync_InvalidSet_FailsWithReasonAndCachesNothing(string name, string body)
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(KeyServer.JwksPath, body);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.FailureCooldownSeconds = 10;
        });
        var key = Key("k1");

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        var logged = await harness.Logs.WaitForAsync(23);
        Assert.DoesNotContain("FusionCacheFactoryException", logged.Message, StringComparison.Ordinal);
        Assert.Empty(harness.Logs.WithId(6));

        server.SetJwks(key);
        harness.Advance(TimeSpan.FromSeconds(10));
        await harness.ExpectAsync(VerifyError.None, key);
        _ = name;
    }

    [Fact]
    public async Task ResolveAsync_EveryTruncationOfServedSet_FailsAsValueThenWholeSetServes()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        var whole = KeyServer.JwksJson(Key("k0"), key);
        server.Set(KeyServer.JwksPath, "");
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.FailureCooldownSeconds = 1;
        });

        for (var length = 0; length < whole.Length; length++)
        {
            server.Set(KeyServer.JwksPath, whole[..length]);
            harness.Advance(TimeSpan.FromSeconds(1));
            await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        }

        server.Set(KeyServer.JwksPath, whole);
        harness.Advance(TimeSpan.FromSeconds(1));
        await harness.ExpectAsync(VerifyError.None, key);
        Assert.Equal(whole.Length + 1, server.Count(KeyServer.JwksPath));
    }

    [Fact]
    public async Task ResolveAsync_UnusableKeyInSet_SkippedOthersServed()
    {
        await using var server = await KeyServer.StartAsync();
        var good = Key("good");
        var encryption = TestKeys.PublicJson(Key("enc")).Replace("\"use\":\"sig\"", "\"use\":\"enc\"", StringComparison.Ordinal);
        server.Set(KeyServer.JwksPath, "{\"keys\":[" + encryption + ",{\"kty\":\"XYZ\",\"kid\":\"odd\"}," + TestKeys.PublicJson(good) + "]}");
        using var harness = new RemoteHarness(o => o.Keys = "jwks:" + server.JwksUrl);

        await harness.ExpectAsync(VerifyError.None, good);
        await harness.ExpectAsync(VerifyError.UnknownKid, Key("enc"));
        Assert.Equal(2, harness.Logs.WithId(27).Count);
    }

    [Theory]
    [InlineData("max-age=600", 3600)]
    [InlineData("max-age=86400", 600)] // clamped to MaxTtlSeconds
    [InlineData(null, 3600)] // no caching headers: DefaultTtlSeconds (600 here)
    public async Task ResolveAsync_KeyRemovedFromSet_RefusedOnceFreshnessEnds(string? cacheControl, int maxTtl)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = cacheControl;
        var kept = Key("kept");
        var dropped = Key("dropped");
        server.SetJwks(kept, dropped);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.DefaultTtlSeconds = 600;
            o.Remote.MaxTtlSeconds = maxTtl;
        });
        await harness.ExpectAsync(VerifyError.None, dropped);

        server.SetJwks(kept);

        // Before the eager-refresh point (0.9 × 600 s) the cached set answers and the registry is not asked.
        harness.Advance(TimeSpan.FromSeconds(539));
        await harness.ExpectAsync(VerifyError.None, dropped);
        await SettleAsync();
        Assert.Equal(1, server.Count(KeyServer.JwksPath));

        // Past freshness the set is fetched again and the dropped key refused; the kept key still serves.
        harness.Advance(TimeSpan.FromSeconds(62));
        await harness.VerifyKeyAsync(dropped);
        await server.WaitForAsync(KeyServer.JwksPath, 2);
        await harness.ExpectAsync(VerifyError.UnknownKid, dropped);
        await harness.ExpectAsync(VerifyError.None, kept);
        Assert.Equal(2, server.Count(KeyServer.JwksPath));
    }

    [Fact]
    public async Task ResolveAsync_KeyAddedToSet_FoundOnceUnknownKidCooldownPassed()
    {
        await using var server = await KeyServer.StartAsync();
        var old = Key("old");
        var rotated = Key("rotated");
        server.SetJwks(old);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.UnknownKidCooldownSeconds = 30;
        });
        await harness.ExpectAsync(VerifyError.None, old);

        server.SetJwks(old, rotated);
        await harness.ExpectAsync(VerifyError.UnknownKid, rotated);
        harness.Advance(TimeSpan.FromSeconds(29));
        await harness.ExpectAsync(VerifyError.UnknownKid, rotated);
        Assert.Equal(1, server.Count(KeyServer.JwksPath));

        harness.Advance(TimeSpan.FromSeconds(1));
        await harness.ExpectAsync(VerifyError.None, rotated);
        await harness.ExpectAsync(VerifyError.None, old);
        Assert.Equal(2, server.Count(KeyServer.JwksPath));
    }

    [Fact]
    public async Task ResolveAsync_HundredConcurrentRequestsForRotatedKid_OneUpstreamCall()
    {
        await using var server = await KeyServer.StartAsync();
        var old = Key("old");
        var rotated = Key("rotated");
        server.SetJwks(old);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.AttemptTimeoutMs = 20_000; // the held fetch must not time out (and retry) on a slow machine
            o.Remote.TotalTimeoutMs = 30_000;
        });
        await harness.ExpectAsync(VerifyError.None, old);

        server.SetJwks(old, rotated);
        harness.Advance(TimeSpan.FromSeconds(harness.Options.Remote.UnknownKidCooldownSeconds));
        var token = harness.Token(rotated);
        server.Hold();
        var stampede = harness.StampedeAsync(token);
        await server.WaitForInFlightAsync(KeyServer.JwksPath);
        await Task.Delay(100);
        server.Release();
        var results = await stampede;

        Assert.All(results, r => Assert.Equal(VerifyError.None, r.Error));
        Assert.Equal(2, server.Count(KeyServer.JwksPath)); // start-up fetch + one refetch for the rotated kid
    }

    [Fact]
    public async Task ResolveAsync_TenThousandRandomKids_RefetchesBoundedByCooldown()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.SetJwks(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.UnknownKidCooldownSeconds = 30;
        });
        await harness.ExpectAsync(VerifyError.None, key);

        // 10,000 random kids over 300 s of fake time: 100 steps of 3 s, 100 concurrent kids each.
        var refused = 0;
        for (var step = 0; step < 100; step++)
        {
            var now = harness.Time.GetUtcNow();
            await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, _) =>
            {
                if ((await harness.VerifyAsync(Unsigned(RandomKid(), now))).Error == VerifyError.UnknownKid)
                {
                    Interlocked.Increment(ref refused);
                }
            });
            harness.Advance(TimeSpan.FromSeconds(3));
        }

        await SettleAsync();

        // One start-up fetch, then at most one refetch per UnknownKidCooldownSeconds: 1 + 300 / 30.
        output.WriteLine($"10,000 random kids over 300 s: {server.Count(KeyServer.JwksPath)} fetches of the set (bound 11)");
        Assert.Equal(10_000, refused);
        Assert.InRange(server.Count(KeyServer.JwksPath), 2, 1 + (300 / 30));
        await harness.ExpectAsync(VerifyError.None, key);
    }

    [Fact]
    public async Task ResolveAsync_RegistryFailingDuringRandomKidFlood_RefetchesBoundedByFailureCooldown()
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
            o.Remote.BreakerMinimumThroughput = 1000; // count the cooldown, not the breaker
        });
        await harness.ExpectAsync(VerifyError.None, key);
        server.Status = 500;

        // 120 s of fake time, one step a second, 20 random kids a step.
        for (var step = 0; step < 120; step++)
        {
            var now = harness.Time.GetUtcNow();
            await Parallel.ForEachAsync(Enumerable.Range(0, 20), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
            {
                var error = (await harness.VerifyAsync(Unsigned(RandomKid(), now))).Error;
                Assert.True(error is VerifyError.UnknownKid or VerifyError.KeySourceUnavailable, error.ToString());
            });
            await harness.ExpectAsync(VerifyError.None, key);
            harness.Advance(TimeSpan.FromSeconds(1));
        }

        await SettleAsync();

        // Start-up fetch, then one failed refetch at 30 s and at most one per failure cooldown after: 1 + 1 + 90 / 10.
        output.WriteLine($"2,400 random kids over 120 s, registry failing: {server.Count(KeyServer.JwksPath)} fetches of the set (bound 11)");
        Assert.InRange(server.Count(KeyServer.JwksPath), 2, 1 + 1 + (90 / 10));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(-1)] // wrong shape
    public async Task ResolveAsync_FailedRefreshAfterGoodSet_KeepsGoodKeys(int status)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        var key = Key("k1");
        server.SetJwks(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.MaxRetries = 0;
            o.Remote.BreakerMinimumThroughput = 1000;
        });
        await harness.ExpectAsync(VerifyError.None, key);

        if (status > 0)
        {
            server.Status = status;
        }
        else
        {
            server.Set(KeyServer.JwksPath, "{\"keys\":{\"kid\":\"k1\"}}");
        }

        for (var i = 0; i < 5; i++)
        {
            harness.Advance(TimeSpan.FromSeconds(61));
            await harness.ExpectAsync(VerifyError.None, key);
        }

        var warning = await harness.Logs.WaitForAsync(21);
        Assert.Contains("jwks:", warning.Message, StringComparison.Ordinal);
        Assert.True(harness.Resolver.Sources[0].Readiness.Ready);
        Assert.Contains("(stale)", harness.Resolver.Sources[0].Readiness.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_SetNotYetFetchable_NotReadyThenReady()
    {
        await using var server = await KeyServer.StartAsync();
        server.Status = 503;
        var key = Key("k1");
        server.SetJwks(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = "jwks:" + server.JwksUrl;
            o.Remote.MaxRetries = 0;
        });
        await server.WaitForAsync(KeyServer.JwksPath, 1);
        await harness.Logs.WaitForAsync(23);
        var readiness = harness.Resolver.Sources[0].Readiness;
        Assert.False(readiness.Ready);
        Assert.Contains("last fetch failed", readiness.Detail, StringComparison.Ordinal);

        server.Status = 0;
        harness.Advance(TimeSpan.FromSeconds(harness.Options.Remote.FailureCooldownSeconds));
        await harness.ExpectAsync(VerifyError.None, key);
        Assert.True(harness.Resolver.Sources[0].Readiness.Ready);
    }

    [Fact]
    public void ReadJwksUri_PlainHttpLoopbackOrAllowed_Accepted()
    {
        Assert.NotNull(JwksKeySource.ReadJwksUri("{\"jwks_uri\":\"http://127.0.0.1:1/k\"}"u8.ToArray(), allowHttp: false, out _));
        Assert.Null(JwksKeySource.ReadJwksUri("{\"jwks_uri\":\"http://keys.example/k\"}"u8.ToArray(), allowHttp: false, out var error));
        Assert.Contains("not https", error, StringComparison.Ordinal);
        Assert.NotNull(JwksKeySource.ReadJwksUri("{\"jwks_uri\":\"http://keys.example/k\"}"u8.ToArray(), allowHttp: true, out _));
    }

    [Theory]
    [InlineData("https://issuer.example", "https://issuer.example/.well-known/openid-configuration")]
    [InlineData("https://issuer.example/", "https://issuer.example/.well-known/openid-configuration")]
    [InlineData("https://issuer.example/tenant/", "https://issuer.example/tenant/.well-known/openid-configuration")]
    [InlineData("https://issuer.example/.well-known/openid-configuration", "https://issuer.example/.well-known/openid-configuration")]
    public void DiscoveryUrl_IssuerForms_WellKnownDocument(string issuer, string expected) =>
        Assert.Equal(expected, JwksKeySource.DiscoveryUrl(new Uri(issuer)).AbsoluteUri);
}
