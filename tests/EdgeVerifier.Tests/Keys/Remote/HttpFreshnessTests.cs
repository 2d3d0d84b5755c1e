using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Keys.Remote;

public sealed class HttpFreshnessTests
{
    private static readonly RemoteKeyOptions Bounds = new() { DefaultTtlSeconds = 300, MinTtlSeconds = 30, MaxTtlSeconds = 600 };

    [Theory]
    [InlineData(null, null, 300)] // no header: the default
    [InlineData("max-age=120", null, 120)]
    [InlineData("public, max-age=120", null, 120)]
    [InlineData("max-age=120", "100", 30)] // Age counts against max-age, then the minimum applies
    [InlineData("max-age=500", "100", 400)]
    [InlineData("max-age=5", null, 30)] // clamped up to MinTtlSeconds
    [InlineData("max-age=0", null, 30)]
    [InlineData("max-age=86400", null, 600)] // clamped down to MaxTtlSeconds
    [InlineData("no-store", null, 30)] // honoured as "keep for the minimum only"
    [InlineData("no-cache", null, 30)]
    [InlineData("no-store, max-age=500", null, 30)]
    [InlineData("s-maxage=200, max-age=100", null, 200)] // a shared cache obeys s-maxage first
    [InlineData("max-age=abc", null, 300)] // unparsable: as if absent
    public void FreshFor_CacheHeaders_ClampedFreshness(string? cacheControl, string? age, int expectedSeconds)
    {
        using var response = new HttpResponseMessage();
        if (cacheControl is not null)
        {
            response.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }

        if (age is not null)
        {
            response.Headers.TryAddWithoutValidation("Age", age);
        }

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), HttpFreshness.FreshFor(response.Headers, Bounds));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData("max-age=60", 0)]
    [InlineData("max-age=60, stale-while-revalidate=120", 120)]
    [InlineData("max-age=60, Stale-While-Revalidate=15", 15)]
    [InlineData("max-age=60, stale-while-revalidate=-5", 0)]
    [InlineData("max-age=60, stale-while-revalidate=x", 0)]
    [InlineData("max-age=60, stale-while-revalidate", 0)]
    public void StaleWhileRevalidate_Extension_Parsed(string? cacheControl, int expectedSeconds)
    {
        using var response = new HttpResponseMessage();
        if (cacheControl is not null)
        {
            response.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), HttpFreshness.StaleWhileRevalidate(response.Headers));
    }

    /// <summary>
    /// Freshness seen from outside: the key is refreshed in the background at the first request past
    /// <see cref="RemoteKeyOptions.EagerRefreshThreshold"/> (0.9) of its freshness, never before.
    /// </summary>
    [Theory]
    [InlineData("url", "max-age=120", 120)]
    [InlineData("url", null, 300)] // DefaultTtlSeconds
    [InlineData("url", "no-store", 30)] // MinTtlSeconds
    [InlineData("url", "max-age=5", 30)] // clamped to MinTtlSeconds
    [InlineData("url", "max-age=86400", 600)] // clamped to MaxTtlSeconds
    [InlineData("jwks", "max-age=120", 120)]
    [InlineData("jwks", "no-store", 30)]
    [InlineData("jwks", "max-age=86400", 600)]
    public async Task ResolveAsync_CacheControl_RefetchedOnlyOnceFreshnessRunsOut(string kind, string? cacheControl, int ttlSeconds)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = cacheControl;
        var key = Key("k1");
        RemoteKeySourceTests.Publish(server, key);
        using var harness = new RemoteHarness(o =>
        {
            RemoteKeySourceTests.UseSource(o, server, kind);
            o.Remote.DefaultTtlSeconds = Bounds.DefaultTtlSeconds;
            o.Remote.MinTtlSeconds = Bounds.MinTtlSeconds;
            o.Remote.MaxTtlSeconds = Bounds.MaxTtlSeconds;
        });
        server.Clock = harness.Time;
        var path = kind == "url" ? KeyServer.KeyPath("k1") : KeyServer.JwksPath;
        var start = harness.Time.GetUtcNow();
        await harness.ExpectAsync(VerifyError.None, key);
        var eager = TimeSpan.FromSeconds(ttlSeconds * 0.9);

        harness.Advance(eager - TimeSpan.FromSeconds(1));
        await harness.ExpectAsync(VerifyError.None, key);
        await SettleAsync();
        Assert.Equal(1, server.Count(path));

        harness.Advance(TimeSpan.FromSeconds(2));
        await harness.ExpectAsync(VerifyError.None, key); // served from cache, refreshed behind it
        await server.WaitForAsync(path, 2);
        Assert.Equal(start + eager + TimeSpan.FromSeconds(1), server.Hits[^1].At);
        await harness.ExpectAsync(VerifyError.None, key);
    }

    [Theory]
    [InlineData("url")]
    [InlineData("jwks")]
    [InlineData("oidc")]
    public async Task ResolveAsync_ETagRoundTrip_304RenewsKeyAndChangedDocumentReplacesIt(string kind)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        server.ETags = true;
        var key = Key("k1");
        RemoteKeySourceTests.Publish(server, key);
        using var harness = new RemoteHarness(o => RemoteKeySourceTests.UseSource(o, server, kind));
        var path = kind == "url" ? KeyServer.KeyPath("k1") : KeyServer.JwksPath;
        await harness.ExpectAsync(VerifyError.None, key);
        await server.WaitForAsync(path, 1);
        var first = Assert.Single(server.Hits, h => h.Path == path);
        Assert.Null(first.IfNoneMatch);
        Assert.Equal(200, first.Status);

        // Stale: revalidated with If-None-Match, answered 304, and the same key keeps serving.
        harness.Advance(TimeSpan.FromSeconds(61));
        await harness.VerifyKeyAsync(key);
        await server.WaitForAsync(path, 2);
        var second = server.Hits.Where(h => h.Path == path).Last();
        Assert.Equal(304, second.Status);
        Assert.NotNull(second.IfNoneMatch);
        Assert.StartsWith("\"", second.IfNoneMatch, StringComparison.Ordinal);
        await harness.ExpectAsync(VerifyError.None, key);

        // The 304 renewed freshness: 50 s later (before 0.9 × 60 s) nothing is asked.
        harness.Advance(TimeSpan.FromSeconds(50));
        await harness.ExpectAsync(VerifyError.None, key);
        await SettleAsync();
        Assert.Equal(2, server.Count(path));

        // A changed document has a new ETag: the registry answers 200 and the new key replaces the old.
        var rotated = Key("k1");
        RemoteKeySourceTests.Publish(server, rotated);
        harness.Advance(TimeSpan.FromSeconds(11));
        await harness.VerifyKeyAsync(rotated);
        await server.WaitForAsync(path, 3);
        var third = server.Hits.Where(h => h.Path == path).Last();
        Assert.Equal(200, third.Status);
        Assert.Equal(second.IfNoneMatch, third.IfNoneMatch);
        await harness.ExpectAsync(VerifyError.None, rotated);
        await harness.ExpectAsync(VerifyError.BadSignature, key);
    }

    [Fact]
    public async Task ResolveAsync_304RenewsFailSafeClock_StaleBoundCountsFromLastAnswer()
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        server.ETags = true;
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxStaleSeconds = 600;
            o.Remote.MaxRetries = 0;
            o.Remote.BreakerMinimumThroughput = 1000;
        });
        await harness.ExpectAsync(VerifyError.None, key);

        harness.Advance(TimeSpan.FromSeconds(500));
        await harness.VerifyKeyAsync(key);
        await server.WaitForAsync(KeyServer.KeyPath("k1"), 2); // 304 at t = 500 s: fresh until 560 s
        server.Status = 500;

        // 560 + 600 = 1160 s is the last second the key may serve while the registry fails.
        harness.Advance(TimeSpan.FromSeconds(660));
        await harness.ExpectAsync(VerifyError.None, key);
        harness.Advance(TimeSpan.FromSeconds(1));
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
    }
}
