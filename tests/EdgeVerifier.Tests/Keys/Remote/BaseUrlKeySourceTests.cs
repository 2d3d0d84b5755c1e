using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Xunit.Abstractions;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Keys.Remote;

public sealed class BaseUrlKeySourceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("https://h/keys", "https://h/keys/k1.jwk")]
    [InlineData("https://h/keys/", "https://h/keys/k1.jwk")]
    [InlineData("https://h/keys//", "https://h/keys/k1.jwk")]
    [InlineData("https://h/keys///", "https://h/keys/k1.jwk")]
    [InlineData("https://h", "https://h/k1.jwk")]
    [InlineData("https://h/", "https://h/k1.jwk")]
    [InlineData("https://h:8443/a/b?x=1#f", "https://h:8443/a/b/k1.jwk")]
    public void Normalise_TrailingSlashesQueryFragment_OneKeyUrl(string baseUrl, string expected)
    {
        var normalised = BaseUrlKeySource.Normalise(new Uri(baseUrl));
        Assert.Equal(expected, new Uri(normalised, "k1.jwk").AbsoluteUri);
    }

    [Theory]
    [InlineData("keys")]
    [InlineData("keys/")]
    [InlineData("keys//")]
    public async Task ResolveAsync_BaseUrlSlashVariants_HitSameUrl(string suffix)
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o => o.Keys = server.BaseAddress + suffix);

        await harness.ExpectAsync(VerifyError.None, key);
        Assert.Equal(1, server.Count("/keys/k1.jwk"));
        Assert.Equal(1, server.Total);
        Assert.Equal("url:" + server.KeysUrl, harness.Resolver.Sources[0].Name);
    }

    [Fact]
    public async Task ResolveAsync_KeyPublished_FetchedOnceThenServedFromCache()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o => o.Keys = server.KeysUrl);

        for (var i = 0; i < 20; i++)
        {
            await harness.ExpectAsync(VerifyError.None, key);
        }

        await SettleAsync();
        Assert.Equal(1, server.Count("/keys/k1.jwk"));
        Assert.Contains(harness.Logs.WithId(1), e => e.Message.Contains("k1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResolveAsync_Registry404_UnknownKidRememberedForNegativeTtl()
    {
        await using var server = await KeyServer.StartAsync();
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.NegativeTtlSeconds = 60;
        });
        var key = Key("late");

        await harness.ExpectAsync(VerifyError.UnknownKid, key);
        Assert.Equal(1, server.Count("/keys/late.jwk"));

        // Published now, but the 404 is remembered: no upstream call within the negative TTL
        // (until the eager-refresh point, 0.9 × 60 s).
        server.PutKey(key);
        harness.Advance(TimeSpan.FromSeconds(50));
        for (var i = 0; i < 10; i++)
        {
            await harness.ExpectAsync(VerifyError.UnknownKid, key);
        }

        await SettleAsync();
        Assert.Equal(1, server.Count("/keys/late.jwk"));

        // Past the negative TTL the kid is asked again.
        harness.Advance(TimeSpan.FromSeconds(11));
        await harness.VerifyKeyAsync(key);
        await server.WaitForAsync("/keys/late.jwk", 2);
        await harness.ExpectAsync(VerifyError.None, key);
        Assert.Equal(2, server.Count("/keys/late.jwk"));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(0)] // connection closed without an answer
    public async Task ResolveAsync_RegistryDownKidNeverSeen_KeySourceUnavailable(int status)
    {
        await using var server = await KeyServer.StartAsync();
        server.Status = status;
        server.CloseConnections = status == 0;
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxRetries = 0;
        });

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, Key("k1"));
        Assert.Contains(harness.Logs.WithId(20), e => e.Message.Contains("/keys/k1.jwk", StringComparison.Ordinal));

        // Within the failure cooldown the registry is not asked again; the answer stays "unavailable".
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, Key("k1"));
        Assert.Equal(1, server.Count("/keys/k1.jwk"));
    }

    [Fact]
    public async Task ResolveAsync_RegistryRecoversAfterFailure_KeyFoundAfterCooldown()
    {
        await using var server = await KeyServer.StartAsync();
        server.Status = 500;
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxRetries = 0;
            o.Remote.FailureCooldownSeconds = 10;
        });

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        server.Status = 0;
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        Assert.Equal(1, server.Count("/keys/k1.jwk"));

        harness.Advance(TimeSpan.FromSeconds(10));
        await harness.ExpectAsync(VerifyError.None, key);
        Assert.Equal(2, server.Count("/keys/k1.jwk"));
    }

    public static TheoryData<string, string> InvalidDocuments()
    {
        var other = Key("other");
        var k1 = Key("k1");
        return new TheoryData<string, string>
        {
            { "not json", "not JSON" },
            { "empty", "" },
            { "wrong shape", "{\"keys\":5}" },
            { "array", "[1,2,3]" },
            { "no key type", "{\"kid\":\"k1\"}" },
            { "kid mismatch", TestKeys.PublicJson(other) },
            { "private key", System.Text.Json.JsonSerializer.Serialize(k1.PrivateJwk, EdgeVerifier.Keys.JwkJsonContext.Default.Jwk) },
            { "set with private key", "{\"keys\":[" + System.Text.Json.JsonSerializer.Serialize(k1.PrivateJwk, EdgeVerifier.Keys.JwkJsonContext.Default.Jwk) + "]}" },
            { "set without the kid", "{\"keys\":[" + TestKeys.PublicJson(other) + "]}" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public async Task ResolveAsync_InvalidDocument_FailsWithReasonAndCachesNothing(string name, string body)
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(KeyServer.KeyPath("k1"), body);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.FailureCooldownSeconds = 10;
        });
        var key = Key("k1");

        // Whatever the document, a value (never an exception) comes out of VerifyAsync.
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        Assert.NotEmpty(harness.Logs.Warnings);
        Assert.DoesNotContain(harness.Logs.WithId(1), e => e.Message.Contains("k1", StringComparison.Ordinal));

        // Nothing was cached: once the registry serves the right key it is used.
        server.PutKey(key);
        harness.Advance(TimeSpan.FromSeconds(10));
        await harness.ExpectAsync(VerifyError.None, key);
        Assert.Equal(2, server.Count("/keys/k1.jwk"));
        _ = name;
    }

    [Fact]
    public async Task ResolveAsync_EveryTruncationOfServedJwk_FailsAsValueOnlyWholeDocumentServes()
    {
        await using var server = await KeyServer.StartAsync();
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.UnknownKidFetchesPerMinute = 100_000;
        });
        var key = Key("t0");
        var whole = TestKeys.PublicJson(key);
        for (var length = 0; length <= whole.Length; length++)
        {
            server.Set(KeyServer.KeyPath("t" + length), whole[..length]);
        }

        for (var length = 0; length < whole.Length; length++)
        {
            await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key, kid: "t" + length);
        }

        // Only the whole document (under its own kid) is a key.
        server.Set(KeyServer.KeyPath("t0"), whole);
        harness.Advance(TimeSpan.FromSeconds(harness.Options.Remote.FailureCooldownSeconds));
        await harness.ExpectAsync(VerifyError.None, key);
    }

    [Fact]
    public async Task ResolveAsync_KidMismatch_ServedKeyNeverAcceptedUnderEitherKid()
    {
        await using var server = await KeyServer.StartAsync();
        var impostor = Key("other");
        server.PutKey(impostor, kid: "k1"); // /keys/k1.jwk holds a JWK whose kid is "other"
        using var harness = new RemoteHarness(o => o.Keys = server.KeysUrl);

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, impostor, kid: "k1");
        var reason = await harness.Logs.WaitForAsync(23, e => e.Message.Contains("differs", StringComparison.Ordinal));
        Assert.Contains("other", reason.Message, StringComparison.Ordinal);

        // The key is not cached under its own kid either: that kid is asked for at its own URL.
        await harness.ExpectAsync(VerifyError.UnknownKid, impostor);
        Assert.Equal(1, server.Count("/keys/other.jwk"));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(-1)] // garbage body
    public async Task ResolveAsync_FailedRefreshAfterGoodFetch_KeepsGoodKey(int status)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxRetries = 0;
            o.Remote.BreakerMinimumThroughput = 1000; // this test is about the cache, not the breaker
        });
        await harness.ExpectAsync(VerifyError.None, key);

        if (status > 0)
        {
            server.Status = status;
        }
        else
        {
            server.Set(KeyServer.KeyPath("k1"), "{\"kty\":\"EC\",\"kid\":\"k1\"");
        }

        for (var i = 0; i < 5; i++)
        {
            harness.Advance(TimeSpan.FromSeconds(61));
            await harness.ExpectAsync(VerifyError.None, key);
        }

        await harness.Logs.WaitForAsync(21);
        Assert.True(server.Count("/keys/k1.jwk") >= 2);

        // The registry comes back with the same key: still accepted, and fresh again.
        server.Status = 0;
        server.PutKey(key);
        harness.Advance(TimeSpan.FromSeconds(61));
        await harness.VerifyKeyAsync(key);
        await WaitUntilAsync(() => server.Hits.Count > 0 && server.Hits[^1].Status == 200);
        await harness.ExpectAsync(VerifyError.None, key);
    }

    [Fact]
    public async Task ResolveAsync_HundredConcurrentRequestsForNewKid_OneUpstreamCall()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl; // default budget: 60 unknown-kid fetches a minute, fewer than the requests
            o.Remote.AttemptTimeoutMs = 20_000; // the held fetch must not time out (and retry) on a slow machine
            o.Remote.TotalTimeoutMs = 30_000;
        });
        var token = harness.Token(key);

        server.Hold();
        var stampede = harness.StampedeAsync(token);
        await server.WaitForInFlightAsync("/keys/k1.jwk");
        await Task.Delay(100); // let the other 99 pile up behind the held fetch
        server.Release();
        var results = await stampede;

        Assert.All(results, r => Assert.Equal(VerifyError.None, r.Error));
        Assert.Equal(1, server.Count("/keys/k1.jwk"));
    }

    [Fact]
    public async Task ResolveAsync_TenThousandRandomKids_UpstreamCallsBoundedByBudget()
    {
        await using var server = await KeyServer.StartAsync();
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.UnknownKidFetchesPerMinute = 60;
        });

        await FloodAsync(harness, 10_000);
        await SettleAsync();

        // Token bucket: burst 60, then 60 per minute of (fake) time. No time passed: 60 calls at most.
        output.WriteLine($"10,000 random kids, no time passing: {server.Total} upstream calls (bound 60)");
        Assert.Equal(60, server.Total);

        harness.Advance(TimeSpan.FromMinutes(1));
        await FloodAsync(harness, 10_000);
        await SettleAsync();
        output.WriteLine($"another 10,000 a minute later: {server.Total} upstream calls in all (bound 120)");
        Assert.Equal(120, server.Total);
    }

    [Fact]
    public async Task ResolveAsync_RandomKidFloodThenRealKid_KnownKidUnaffected()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o => o.Keys = server.KeysUrl);
        await harness.ExpectAsync(VerifyError.None, key);

        await FloodAsync(harness, 2_000);

        // The budget is spent, yet a kid already known good needs none.
        await harness.ExpectAsync(VerifyError.None, key);
        harness.Advance(TimeSpan.FromSeconds(400)); // past freshness: a refresh of a known kid
        await harness.VerifyKeyAsync(key);
        await server.WaitForAsync("/keys/k1.jwk", 2);
        await harness.ExpectAsync(VerifyError.None, key);
    }

    [Fact]
    public async Task ResolveAsync_SlotTableFilledWithUnknownKids_NewKidStillFoundOnceNegativeEntriesExpire()
    {
        await using var server = await KeyServer.StartAsync();
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.UnknownKidFetchesPerMinute = 100_000;
            o.Remote.NegativeTtlSeconds = 60;
        });

        // Fill every slot with a remembered 404.
        await FloodAsync(harness, BaseUrlKeySource.MaxSlots, parallelism: 32);
        Assert.Equal(BaseUrlKeySource.MaxSlots, server.Total);

        // A real kid published later must not be locked out for ever by the flood.
        var key = Key("rotated");
        server.PutKey(key);
        harness.Advance(TimeSpan.FromSeconds(61));
        await harness.ExpectAsync(VerifyError.None, key);
    }

    private static async Task FloodAsync(RemoteHarness harness, int count, int parallelism = 16)
    {
        var now = harness.Time.GetUtcNow();
        var refused = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (_, _) =>
        {
            var result = await harness.VerifyAsync(Unsigned(RandomKid(), now));
            if (result.Error == VerifyError.UnknownKid)
            {
                Interlocked.Increment(ref refused);
            }
        });
        Assert.Equal(count, refused);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(10);
        }
    }
}
