using System.Diagnostics;
using System.Net;
using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Introspection;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Introspection;

/// <summary>
/// The introspection cache, asserted by counting calls at a real endpoint: positive answers for
/// min(TTL, exp − now) on the fake clock, nothing negative or failed, one call per token under
/// concurrency, and request cancellation.
/// </summary>
public sealed class IntrospectionCacheTests
{
    private const string Token = "evt_cache-0123456789";

    private static Task<AccessHost> HostAsync(IntrospectionServer server, int ttlSeconds = 60) =>
        AccessHost.StartAsync(o =>
        {
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url }];
            o.Introspection.CacheTtlSeconds = ttlSeconds;
        });

    private static async Task<string> OutcomeAsync(AccessHost host, string token = Token)
    {
        using var response = await host.VerifyAsync(token);
        return await AccessHost.OutcomeAsync(response);
    }

    [Fact]
    public async Task Verify_ActiveTokenRepeated_OneUpstreamCall()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        await using var host = await HostAsync(server);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("200 -", await OutcomeAsync(host));
        }

        Assert.Equal(1, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_CachedAnswer_ExpiresAfterTtlOnTheInjectedClock()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        await using var host = await HostAsync(server, ttlSeconds: 60);

        Assert.Equal("200 -", await OutcomeAsync(host));
        host.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(1, server.CallsFor(Token));

        host.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(2, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_TokenExpiresBeforeTtl_CachedOnlyUntilExp()
    {
        await using var server = await IntrospectionServer.StartAsync();
        await using var host = await HostAsync(server, ttlSeconds: 60);
        server.Active(Token, extra: $"\"exp\":{host.Time.GetUtcNow().ToUnixTimeSeconds() + 10}");

        Assert.Equal("200 -", await OutcomeAsync(host));
        host.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(1, server.CallsFor(Token));

        host.Time.Advance(TimeSpan.FromSeconds(2)); // past exp, well inside the TTL
        server.Answer(Token, "{\"active\":false}");
        Assert.Equal("401 inactive_token", await OutcomeAsync(host));
        Assert.Equal(2, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_ExpFarInTheFuture_CachedForTheTtl()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token, extra: "\"exp\":1e300");
        await using var host = await HostAsync(server, ttlSeconds: 60);

        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(1, server.CallsFor(Token));

        host.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(2, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_CacheTtlZero_EveryRequestCalls()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        await using var host = await HostAsync(server, ttlSeconds: 0);

        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal("200 -", await OutcomeAsync(host));

        Assert.Equal(2, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_InactiveAnswers_NeverCached()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Answer(Token, "{\"active\":false}");
        await using var host = await HostAsync(server);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("401 inactive_token", await OutcomeAsync(host));
        }

        Assert.Equal(3, server.CallsFor(Token));

        // Once the token is active, the very next request sees it.
        server.Active(Token);
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(4, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_ActiveWithoutSubject_NeverCached()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Answer(Token, "{\"active\":true}");
        await using var host = await HostAsync(server);

        Assert.Equal("401 missing_claim", await OutcomeAsync(host));
        Assert.Equal("401 missing_claim", await OutcomeAsync(host));

        Assert.Equal(2, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_Failures_NeverCachedRecoveryCachedAgain()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        server.Status = 500;
        await using var host = await HostAsync(server);

        Assert.Equal("503 introspection_unavailable", await OutcomeAsync(host));
        Assert.Equal("503 introspection_unavailable", await OutcomeAsync(host));
        Assert.Equal(2, server.CallsFor(Token));

        server.Status = 0;
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(3, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_DifferentTokens_CachedSeparately()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active("evt_a", "alice");
        server.Active("evt_b", "bob");
        await using var host = await HostAsync(server);

        for (var i = 0; i < 3; i++)
        {
            using var a = await host.VerifyAsync("evt_a");
            using var b = await host.VerifyAsync("evt_b");
            Assert.Equal("alice", Assert.Single(a.Headers.GetValues("X-Auth-Subject")));
            Assert.Equal("bob", Assert.Single(b.Headers.GetValues("X-Auth-Subject")));
        }

        Assert.Equal(1, server.CallsFor("evt_a"));
        Assert.Equal(1, server.CallsFor("evt_b"));
    }

    [Fact]
    public async Task Verify_ConcurrentMissesForOneToken_OneUpstreamCall()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        server.Hold();
        await using var host = await HostAsync(server);

        var requests = new Task<string>[20];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = OutcomeAsync(host);
        }

        await server.WaitForInFlightAsync();
        await Task.Delay(100); // let the other requests arrive and join the call in flight
        server.Release();
        var outcomes = await Task.WhenAll(requests);

        Assert.All(outcomes, o => Assert.Equal("200 -", o));
        Assert.Equal(1, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_ConcurrentMissesInactive_SharedButNotCached()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Answer(Token, "{\"active\":false}");
        server.Hold();
        await using var host = await HostAsync(server);

        var requests = new Task<string>[10];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = OutcomeAsync(host);
        }

        await server.WaitForInFlightAsync();
        await Task.Delay(100);
        server.Release();
        var outcomes = await Task.WhenAll(requests);

        Assert.All(outcomes, o => Assert.Equal("401 inactive_token", o));
        Assert.Equal(1, server.CallsFor(Token));
        Assert.Equal("401 inactive_token", await OutcomeAsync(host));
        Assert.Equal(2, server.CallsFor(Token));
    }

    [Fact]
    public async Task IntrospectAsync_CallerCancelled_StopsWaitingSharedCallStillFillsCache()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        server.Hold();
        var time = new FakeTimeProvider(VerifierHarness.Start);
        var options = new VerifierOptions { Keys = "unused", Issuers = ["i"], Audiences = ["a"] };
        options.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url }];
        options.Introspection.AttemptTimeoutMs = 5000;
        options.Introspection.TotalTimeoutMs = 6000;
        options.Introspection.MaxRetries = 0;
        var claims = VerifierFactory.CreatePolicy(options).Claims;
        using var introspector = VerifierFactory.CreateIntrospector(options, claims, time, NullLoggerFactory.Instance, out var error)
            ?? throw new InvalidOperationException(error);
        using var cancel = new CancellationTokenSource();

        var pending = introspector.IntrospectAsync(Token.AsMemory(), 8192, cancel.Token).AsTask();
        await server.WaitForInFlightAsync();
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"cancellation took {clock.Elapsed}");

        // The shared call was not abandoned: once the endpoint answers, the answer is cached for the next caller.
        server.Release();
        await Eventually.TrueAsync(() => Task.FromResult(introspector.CachedCount == 1));
        var next = await introspector.IntrospectAsync(Token.AsMemory(), 8192);
        Assert.True(next.IsValid);
        Assert.Equal(1, server.CallsFor(Token));
    }

    [Fact]
    public async Task IntrospectAsync_CacheHit_CompletesSynchronously()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        var time = new FakeTimeProvider(VerifierHarness.Start);
        var options = new VerifierOptions { Keys = "unused", Issuers = ["i"], Audiences = ["a"] };
        options.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url }];
        var claims = VerifierFactory.CreatePolicy(options).Claims;
        using var introspector = VerifierFactory.CreateIntrospector(options, claims, time, NullLoggerFactory.Instance, out var error)
            ?? throw new InvalidOperationException(error);

        Assert.True((await introspector.IntrospectAsync(Token.AsMemory(), 8192)).IsValid);
        var hit = introspector.IntrospectAsync(Token.AsMemory(), 8192);

        Assert.True(hit.IsCompletedSuccessfully);
        Assert.Equal(VerifyError.None, (await hit).Error);
        Assert.Equal(1, server.CallsFor(Token));
    }

    [Fact]
    public async Task Verify_ClientGoesAwayMidCall_ServerStaysHealthy()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        server.Hold();
        await using var host = await HostAsync(server);
        using var cancel = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Token);

        var pending = host.Client.SendAsync(request, cancel.Token);
        await server.WaitForInFlightAsync();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        server.Release();

        Assert.Equal("200 -", await OutcomeAsync(host));
        Assert.Equal(1, server.CallsFor(Token));
        Assert.Empty(host.Logs.WithId(30)); // no "unexpected error"
    }
}
