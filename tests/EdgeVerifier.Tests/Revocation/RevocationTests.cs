using System.Net;
using System.Text.Json;
using EdgeVerifier.Configuration;
using EdgeVerifier.Revocation;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Revocation;

/// <summary>
/// The revocation list through <c>/verify</c>: fetched from a real registry on 127.0.0.1 (or a
/// file), refreshed on the fake clock, applied to every request after verification — cached
/// introspection answers included — and the stale policy both ways.
/// </summary>
public sealed class RevocationTests
{
    private const string ListPath = "/revoked.json";
    private const int RefreshSeconds = 10;
    private const int MaxAgeSeconds = 30;

    private static async Task<AccessHost> HostAsync(KeyServer server, string stalePolicy = RevocationOptions.FailClosed, Action<VerifierOptions>? more = null)
    {
        var host = await AccessHost.StartAsync(o =>
        {
            o.Revocation.Url = server.BaseAddress + ListPath.TrimStart('/');
            o.Revocation.RefreshSeconds = RefreshSeconds;
            o.Revocation.MaxAgeSeconds = MaxAgeSeconds;
            o.Revocation.StalePolicy = stalePolicy;
            more?.Invoke(o);
        });
        await AttemptsAsync(host, 1);
        return host;
    }

    private static RevocationList List(AccessHost host) => host.App.Revocation!;

    /// <summary>Waits (real time, bounded) until the list has made <paramref name="count"/> refresh attempts.</summary>
    private static async Task AttemptsAsync(AccessHost host, int count)
    {
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(List(host).Attempts >= count)), $"{List(host).Attempts} refresh attempt(s), expected {count}");
    }

    /// <summary>Moves the fake clock one refresh interval and waits for that refresh to finish.</summary>
    private static async Task RefreshAsync(AccessHost host)
    {
        var before = List(host).Attempts;
        host.Time.Advance(TimeSpan.FromSeconds(RefreshSeconds));
        await AttemptsAsync(host, before + 1);
    }

    private static async Task<string> OutcomeAsync(AccessHost host, string token)
    {
        using var response = await host.VerifyAsync(token);
        return await AccessHost.OutcomeAsync(response);
    }

    [Fact]
    public async Task Verify_JtiListed_401Revoked()
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"jti\":[\"j-bad\"],\"sub\":[]}");
        await using var host = await HostAsync(server);

        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt(extra: "\"jti\":\"j-bad\"")));
        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt(extra: "\"jti\":\"j-good\"")));
        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt()));
    }

    [Theory]
    [InlineData("\"jti\":\"j-good\",\"jti\":\"j-bad\"")]
    [InlineData("\"jti\":\"j-bad\",\"jti\":\"j-good\"")]
    [InlineData("\"jti\":[\"j-bad\"]")]
    public async Task Verify_JtiTwiceOrNotAString_401MalformedNeverSlipsPastTheList(string claims)
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"jti\":[\"j-bad\"]}");
        await using var host = await HostAsync(server);

        Assert.Equal("401 malformed_token", await OutcomeAsync(host, host.Jwt(extra: claims)));
    }

    [Fact]
    public async Task Verify_SubjectListed_401RevokedWhateverTheJti()
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"sub\":[\"mallory\"]}");
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(host.Jwt("mallory", "\"jti\":\"j-1\""));

        Assert.Equal("401 revoked", await AccessHost.OutcomeAsync(response));
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt("alice", "\"jti\":\"j-1\"")));
    }

    [Fact]
    public async Task Verify_TokenAcceptedThenRevoked_RefusedFromTheNextRefresh()
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"jti\":[],\"sub\":[]}");
        await using var host = await HostAsync(server);
        var token = host.Jwt(extra: "\"jti\":\"j-7\"");
        Assert.Equal("200 -", await OutcomeAsync(host, token));

        server.Set(ListPath, "{\"jti\":[\"j-7\"]}");
        Assert.Equal("200 -", await OutcomeAsync(host, token)); // not yet refreshed
        await RefreshAsync(host);

        Assert.Equal("401 revoked", await OutcomeAsync(host, token));
    }

    [Theory]
    [InlineData("{\"sub\":[\"alice\"]}")]
    [InlineData("{\"jti\":[\"opaque-jti-1\"]}")]
    public async Task Verify_CachedIntrospectedTokenRevoked_RefusedWithoutAnotherCall(string list)
    {
        await using var server = await KeyServer.StartAsync();
        await using var introspection = await IntrospectionServer.StartAsync();
        introspection.Active("evt_cached", "alice", "\"jti\":\"opaque-jti-1\"");
        server.Set(ListPath, "{}");
        await using var host = await HostAsync(server, more: o =>
        {
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = introspection.Url }];
            o.Introspection.CacheTtlSeconds = 3600;
        });
        Assert.Equal("200 -", await OutcomeAsync(host, "evt_cached"));
        Assert.Equal("200 -", await OutcomeAsync(host, "evt_cached"));
        Assert.Equal(1, introspection.CallsFor("evt_cached"));
        Assert.Equal(1, host.App.Introspector!.CachedCount);

        server.Set(ListPath, list);
        await RefreshAsync(host);

        Assert.Equal("401 revoked", await OutcomeAsync(host, "evt_cached"));
        Assert.Equal(1, introspection.CallsFor("evt_cached")); // answered from the cache, then revoked
    }

    [Fact]
    public async Task Refresh_SendsIfNoneMatch_304RenewsTheList()
    {
        await using var server = await KeyServer.StartAsync();
        server.ETags = true;
        server.Set(ListPath, "{\"jti\":[\"j-bad\"]}");
        await using var host = await HostAsync(server);

        // Five refreshes answered 304 carry the list well past MaxAgeSeconds since its 200.
        for (var i = 0; i < 5; i++)
        {
            await RefreshAsync(host);
        }

        var hits = server.Hits.Where(h => h.Path == ListPath).ToList();
        Assert.Equal(200, hits[0].Status);
        Assert.Null(hits[0].IfNoneMatch);
        Assert.All(hits.Skip(1), h => Assert.Equal(304, h.Status));
        Assert.All(hits.Skip(1), h => Assert.NotNull(h.IfNoneMatch));
        Assert.False(List(host).IsStale);
        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt(extra: "\"jti\":\"j-bad\"")));
        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt()));
    }

    [Fact]
    public async Task Verify_ListStaleFailClosed_503UntilTheListIsBack()
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"jti\":[\"j-bad\"]}");
        await using var host = await HostAsync(server, RevocationOptions.FailClosed);
        var token = host.Jwt();
        Assert.Equal("200 -", await OutcomeAsync(host, token));

        server.Status = 500;
        await RefreshAsync(host); // 10 s
        await RefreshAsync(host); // 20 s
        await RefreshAsync(host); // 30 s: age 30, not yet older than the maximum
        Assert.Equal("200 -", await OutcomeAsync(host, token));
        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt(extra: "\"jti\":\"j-bad\""))); // the last list still applies
        await host.Logs.WaitForAsync(51);

        host.Time.Advance(TimeSpan.FromSeconds(1)); // 31 s: stale
        using (var response = await host.VerifyAsync(token))
        {
            Assert.Equal("503 revocation_list_stale", await AccessHost.OutcomeAsync(response));
            Assert.NotNull(response.Headers.RetryAfter);
        }

        using (var ready = await host.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("stale (fail-closed)", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        server.Status = 0;
        host.Time.Advance(TimeSpan.FromSeconds(RefreshSeconds - 1)); // the 40 s refresh
        await AttemptsAsync(host, 5);
        Assert.Equal("200 -", await OutcomeAsync(host, token));
        using var readyAgain = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    [Fact]
    public async Task Verify_ListStaleFailOpen_ServedWithOneWarningAndMetric()
    {
        using var staleServed = new MetricCounter("edgeverifier.revocation.stale_served");
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"jti\":[\"j-bad\"]}");
        await using var host = await HostAsync(server, RevocationOptions.FailOpen);

        server.CloseConnections = true;
        for (var i = 0; i < 4; i++)
        {
            await RefreshAsync(host); // 40 s without a good refresh
        }

        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt()));
        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt("bob")));
        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt(extra: "\"jti\":\"j-bad\""))); // served against the last list

        var warning = Assert.Single(host.Logs.WithId(52));
        Assert.Contains("fail-open", warning.Message, StringComparison.Ordinal);
        Assert.True(staleServed.Total >= 3, $"stale_served counted {staleServed.Total}");
        using var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("stale (fail-open)", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RevocationOptions.FailClosed, "503 revocation_list_stale")]
    [InlineData(RevocationOptions.FailOpen, "200 -")]
    public async Task Verify_ListNeverLoaded_FollowsTheStalePolicy(string policy, string expected)
    {
        await using var server = await KeyServer.StartAsync();
        server.Status = 503;
        await using var host = await HostAsync(server, policy);

        Assert.Equal(expected, await OutcomeAsync(host, host.Jwt()));
    }

    [Fact]
    public async Task Verify_BadListServed_KeepsTheLastGoodList()
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"sub\":[\"mallory\"]}");
        await using var host = await HostAsync(server);

        server.Set(ListPath, "{\"sub\":\"mallory\"}"); // wrong shape
        await RefreshAsync(host);

        Assert.Contains("not an array", (await host.Logs.WaitForAsync(51)).Message, StringComparison.Ordinal);
        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt("mallory")));
    }

    [Fact]
    public async Task Verify_FileList_ReReadOnRefresh()
    {
        using var dir = new TempDirectory();
        var path = dir.File("revoked.json");
        File.WriteAllText(path, "{\"sub\":[\"mallory\"]}");
        await using var host = await AccessHost.StartAsync(o =>
        {
            o.Revocation.Path = path;
            o.Revocation.RefreshSeconds = RefreshSeconds;
            o.Revocation.MaxAgeSeconds = MaxAgeSeconds;
        });
        await AttemptsAsync(host, 1);
        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt("mallory")));
        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt("eve")));

        File.WriteAllText(path, "{\"sub\":[\"eve\"],\"jti\":[]}");
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(5)); // a change the stamp shows even on coarse clocks
        await RefreshAsync(host);

        Assert.Equal("200 -", await OutcomeAsync(host, host.Jwt("mallory")));
        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt("eve")));

        File.WriteAllText(path, "{broken");
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(10));
        await RefreshAsync(host);
        Assert.Contains("not valid JSON", (await host.Logs.WaitForAsync(51)).Message, StringComparison.Ordinal);
        Assert.Equal("401 revoked", await OutcomeAsync(host, host.Jwt("eve")));
    }

    [Fact]
    public async Task Readyz_ListLoaded_ReportsCounts()
    {
        await using var server = await KeyServer.StartAsync();
        server.Set(ListPath, "{\"jti\":[\"a\",\"b\"],\"sub\":[\"c\"]}");
        await using var host = await HostAsync(server);

        using var ready = await host.Client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var revocation = json.RootElement.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "revocation");
        Assert.True(revocation.GetProperty("ready").GetBoolean());
        Assert.Contains("2 jti, 1 sub", revocation.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
