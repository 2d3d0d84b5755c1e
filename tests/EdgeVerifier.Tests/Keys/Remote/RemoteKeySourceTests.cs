using System.Net;
using EdgeVerifier.Configuration;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Keys.Remote;

/// <summary>Fail-safe, staleness bound and slow registries, for every kind of remote source.</summary>
public sealed class RemoteKeySourceTests
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    internal static void UseSource(VerifierOptions o, KeyServer server, string kind) => o.Keys = kind switch
    {
        "url" => server.KeysUrl,
        "jwks" => "jwks:" + server.JwksUrl,
        _ => "oidc:" + server.Issuer,
    };

    internal static void Publish(KeyServer server, params EdgeVerifier.Keys.SigningKey[] keys)
    {
        foreach (var key in keys)
        {
            server.PutKey(key);
        }

        server.SetJwks(keys);
    }

    [Theory]
    [InlineData("url")]
    [InlineData("jwks")]
    [InlineData("oidc")]
    public async Task ResolveAsync_RegistryDownTenMinutes_CachedKidServedWithWarnings(string kind)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        var key = Key("k1");
        Publish(server, key);
        using var harness = new RemoteHarness(o => UseSource(o, server, kind));
        await harness.ExpectAsync(VerifyError.None, key);

        server.Status = 500;
        for (var second = 30; second <= 600; second += 30)
        {
            harness.Advance(TimeSpan.FromSeconds(30));
            for (var i = 0; i < 3; i++)
            {
                await harness.ExpectAsync(VerifyError.None, key);
            }
        }

        var stale = await harness.Logs.WaitForAsync(21);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, stale.Level);
        Assert.Contains("serving the last good keys", stale.Message, StringComparison.Ordinal);
        Assert.NotEmpty(harness.Logs.WithId(20));
        Assert.True(server.Count(kind == "url" ? KeyServer.KeyPath("k1") : KeyServer.JwksPath) > 1);
    }

    [Theory]
    [InlineData("url")]
    [InlineData("jwks")]
    [InlineData("oidc")]
    public async Task ResolveAsync_RegistryDownPastMaxStale_RefusedAtBoundPlusOneSecond(string kind)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        var key = Key("k1");
        Publish(server, key);
        using var harness = new RemoteHarness(o =>
        {
            UseSource(o, server, kind); // MaxStaleSeconds: default 24 h
            o.Remote.BreakerMinimumThroughput = 1000; // so the recovery below is not held back by an open circuit
            o.Remote.MaxRetries = 0; // each failed refresh ends before the clock moves on
        });
        await harness.ExpectAsync(VerifyError.None, key);
        server.Status = 500;

        // Freshness ends at 60 s; the key may then serve stale for 24 h, and not a second more.
        harness.Advance(TimeSpan.FromMinutes(10));
        await harness.ExpectAsync(VerifyError.None, key);
        harness.Advance(MaxAge + TimeSpan.FromHours(24) - TimeSpan.FromMinutes(10));
        await harness.ExpectAsync(VerifyError.None, key);
        harness.Advance(TimeSpan.FromSeconds(1));
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);

        // When the registry answers again the key is back.
        server.Status = 0;
        harness.Advance(TimeSpan.FromSeconds(harness.Options.Remote.FailureCooldownSeconds));
        await harness.ExpectAsync(VerifyError.None, key);
    }

    [Fact]
    public async Task ResolveAsync_ConfiguredMaxStale_RefusedPastIt()
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        var key = Key("k1");
        Publish(server, key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxStaleSeconds = 600;
        });
        await harness.ExpectAsync(VerifyError.None, key);
        server.CloseConnections = true;

        harness.Advance(MaxAge + TimeSpan.FromSeconds(600));
        await harness.ExpectAsync(VerifyError.None, key);
        harness.Advance(TimeSpan.FromSeconds(1));
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
    }

    [Theory]
    [InlineData("url")]
    [InlineData("jwks")]
    public async Task ResolveAsync_HugeStaleWhileRevalidate_StillBoundedByMaxStale(string kind)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60, stale-while-revalidate=31536000";
        var key = Key("k1");
        Publish(server, key);
        using var harness = new RemoteHarness(o => UseSource(o, server, kind));
        await harness.ExpectAsync(VerifyError.None, key);
        server.Status = 500;

        harness.Advance(MaxAge + TimeSpan.FromHours(24));
        await harness.ExpectAsync(VerifyError.None, key);
        harness.Advance(TimeSpan.FromSeconds(1));
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
    }

    [Theory]
    [InlineData("url")]
    [InlineData("jwks")]
    public async Task ResolveAsync_HundredConcurrentRequestsForStaleKey_ServedStaleOneRefresh(string kind)
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        var key = Key("k1");
        Publish(server, key);
        using var harness = new RemoteHarness(o =>
        {
            UseSource(o, server, kind);
            o.Remote.AttemptTimeoutMs = 20_000; // the held refresh must not time out (and retry) on a slow machine
            o.Remote.TotalTimeoutMs = 30_000;
        });
        await harness.ExpectAsync(VerifyError.None, key);
        var path = kind == "url" ? KeyServer.KeyPath("k1") : KeyServer.JwksPath;
        harness.Advance(TimeSpan.FromSeconds(61));
        var token = harness.Token(key);

        // The registry holds the refresh: every request is answered from the stale key meanwhile.
        server.Hold();
        var stampede = harness.StampedeAsync(token);
        var results = await stampede;
        Assert.All(results, r => Assert.Equal(VerifyError.None, r.Error));

        // The one refresh may still be on its way to the registry on a loaded machine: wait for it, then count.
        await server.WaitForInFlightAsync(path);
        Assert.Equal(1, server.InFlight(path));
        server.Release();
        await server.WaitForAsync(path, 2);
        await harness.ExpectAsync(VerifyError.None, key);
        await SettleAsync();
        Assert.Equal(2, server.Count(path));
    }

    [Fact]
    public async Task ResolveAsync_KidNeverSeenAndRegistryDown_503WithRetryAfter()
    {
        await using var server = await KeyServer.StartAsync();
        server.Status = 503;
        await using var app = await RemoteAppHost.StartAsync(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxRetries = 0;
            o.RetryAfterSeconds = 7;
        });

        using var response = await app.VerifyAsync(TestTokens.Sign(Key("k1"), TestTokens.Payload(app.Time.GetUtcNow())));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        Assert.Contains("\"error\":\"key_source_unavailable\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_RegistryAnswersNoSuchKey_401UnknownKid()
    {
        await using var server = await KeyServer.StartAsync();
        await using var app = await RemoteAppHost.StartAsync(o => o.Keys = server.KeysUrl);

        using var response = await app.VerifyAsync(TestTokens.Sign(Key("k1"), TestTokens.Payload(app.Time.GetUtcNow())));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"error\":\"unknown_kid\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, server.Count(KeyServer.KeyPath("k1")));
    }
}

/// <summary>Tests that wait on real network timeouts run alone, so other tests' load cannot skew them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetworkTimingCollection
{
    public const string Name = "network timing";
}

[Collection(NetworkTimingCollection.Name)]
public sealed class SlowRegistryTests
{
    [Fact]
    public async Task ResolveAsync_RegistryAnswersIn15Seconds_CachedKidUnaffectedUncachedKid503()
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60";
        var cached = Key("cached");
        var fresh = Key("uncached");
        server.PutKey(cached);
        server.PutKey(fresh);
        await using var app = await RemoteAppHost.StartAsync(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.AttemptTimeoutMs = 600;
            o.Remote.TotalTimeoutMs = 1000;
            o.Remote.MaxRetries = 0;
        });
        string Token(EdgeVerifier.Keys.SigningKey key) => TestTokens.Sign(key, TestTokens.Payload(app.Time.GetUtcNow()));
        using (var warm = await app.VerifyAsync(Token(cached)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        server.Delay = TimeSpan.FromSeconds(15);
        var uncachedPath = KeyServer.KeyPath("uncached");
        var uncached = app.VerifyAsync(Token(fresh));
        await server.WaitForInFlightAsync(uncachedPath);

        // The cached kid answers while the uncached kid's fetch is still waiting on the registry.
        using (var whileSlow = await app.VerifyAsync(Token(cached)))
        {
            Assert.Equal(HttpStatusCode.OK, whileSlow.StatusCode);
            Assert.Equal(1, server.InFlight(uncachedPath));
            Assert.False(uncached.IsCompleted);
        }

        // The uncached kid fails at the configured timeout (600 ms), not after the registry's 15 s.
        using (var refused = await uncached)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(refused.Headers.Contains("Retry-After"));
            Assert.Contains("\"error\":\"key_source_unavailable\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Contains(app.Logs.WithId(20), e => e.Message.Contains("timed out", StringComparison.Ordinal));

        // Past its freshness the cached kid needs a refresh, which the slow registry cannot give:
        // the request is answered from the stale key (soft timeout) while that refresh is still running.
        app.Time.Advance(TimeSpan.FromSeconds(61));
        using (var stale = await app.VerifyAsync(Token(cached)))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal(2, server.Count(KeyServer.KeyPath("cached")));
            Assert.Equal(1, server.InFlight(KeyServer.KeyPath("cached")));
        }

        await app.Logs.WaitForAsync(21); // ... and once it times out, the stale key is kept with a warning
        using (var after = await app.VerifyAsync(Token(cached)))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
    }

    [Fact]
    public async Task ResolveAsync_StaleWhileRevalidate_ServedWithoutWaitingForRegistry()
    {
        await using var server = await KeyServer.StartAsync();
        server.CacheControl = "max-age=60, stale-while-revalidate=600";
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.AttemptTimeoutMs = 300;
            o.Remote.TotalTimeoutMs = 800;
            o.Remote.MaxRetries = 0;
        });
        await harness.ExpectAsync(VerifyError.None, key);
        server.Delay = TimeSpan.FromSeconds(15);

        // Within stale-while-revalidate the key answers at once and the refresh goes on in the background:
        // no soft-timeout wait (event 22) is ever needed.
        harness.Advance(TimeSpan.FromSeconds(100));
        await harness.ExpectAsync(VerifyError.None, key);
        await server.WaitForInFlightAsync(KeyServer.KeyPath("k1"));
        await harness.ExpectAsync(VerifyError.None, key);
        await harness.Logs.WaitForAsync(21); // the background refresh timed out and said so
        Assert.Empty(harness.Logs.WithId(22));
    }
}
