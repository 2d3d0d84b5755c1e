using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Introspection;

/// <summary>
/// Opaque tokens through <c>/verify</c> against a real RFC 7662 endpoint (Kestrel on 127.0.0.1):
/// every outcome of the issue, with upstream calls counted.
/// </summary>
public sealed class IntrospectionEndpointTests
{
    private const string Token = "evt_0123456789abcdef";

    private static Task<AccessHost> HostAsync(IntrospectionServer server, Action<Configuration.VerifierOptions>? more = null) =>
        AccessHost.StartAsync(o =>
        {
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url, ClientId = "edge", ClientSecret = "s3cret:+/ x" }];
            more?.Invoke(o);
        });

    [Fact]
    public async Task Verify_ActiveToken_200WithSubjectAndIssuerHeaders()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token, "alice", "\"iss\":\"https://as.example\",\"role\":\"admin\"");
        await using var host = await HostAsync(server, o => o.ClaimHeaders = new(StringComparer.Ordinal) { ["role"] = "X-Auth-Role" });

        using var response = await host.VerifyAsync(Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("alice", Assert.Single(response.Headers.GetValues("X-Auth-Subject")));
        Assert.Equal("https://as.example", Assert.Single(response.Headers.GetValues("X-Auth-Issuer")));
        Assert.Equal("admin", Assert.Single(response.Headers.GetValues("X-Auth-Role")));
    }

    [Fact]
    public async Task Verify_ClientSecretBasic_PostsFormWithBasicCredentials()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(server.Calls);
        Assert.Equal("POST", call.Method);
        Assert.Equal(Token, call.Token);
        Assert.StartsWith("application/x-www-form-urlencoded", call.ContentType, StringComparison.Ordinal);

        // RFC 6749 §2.3.1: id and secret are form-encoded before base64 ("s3cret:+/ x" → "s3cret%3A%2B%2F+x").
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("edge:s3cret%3A%2B%2F+x")), call.Authorization);
    }

    [Fact]
    public async Task Verify_BearerClientAuthentication_SendsBearerToken()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        await using var host = await AccessHost.StartAsync(o =>
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url, BearerToken = "rs-token" }]);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer rs-token", Assert.Single(server.Calls).Authorization);
    }

    [Fact]
    public async Task Verify_InactiveToken_401InactiveToken()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Answer(Token, "{\"active\":false}");
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("401 inactive_token", await AccessHost.OutcomeAsync(response));
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ActiveWithoutSubject_401FailsClosed()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Answer(Token, "{\"active\":true,\"scope\":\"read\"}");
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("401 missing_claim", await AccessHost.OutcomeAsync(response));
        await host.Logs.WaitForAsync(41);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(401)] // our client credentials refused: an upstream problem, not the token's
    [InlineData(404)]
    public async Task Verify_EndpointAnswersError_503IntrospectionUnavailableWithRetryAfter(int status)
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        server.Status = status;
        await using var host = await HostAsync(server, o => o.RetryAfterSeconds = 7);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("503 introspection_unavailable", await AccessHost.OutcomeAsync(response));
        Assert.Equal("7", response.Headers.RetryAfter?.ToString());
        var logged = await host.Logs.WaitForAsync(40);
        Assert.Contains($"HTTP {status}", logged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, logged.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("<html>busy</html>")]
    [InlineData("")]
    [InlineData("[{\"active\":true}]")]
    [InlineData("{\"active\":\"true\",\"sub\":\"alice\"}")]
    [InlineData("{\"active\":1,\"sub\":\"alice\"}")]
    [InlineData("{\"sub\":\"alice\"}")]
    [InlineData("{\"active\":true,\"sub\":42}")]
    [InlineData("{\"active\":true,\"sub\":\"alice\",\"exp\":\"soon\"}")]
    [InlineData("{\"active\":true,\"sub\":\"alice\",\"scope\":[\"a\"]}")]
    [InlineData("{\"active\":true,\"active\":false,\"sub\":\"alice\"}")]
    [InlineData("{\"active\":true,\"sub\":\"alice\"} trailing")]
    [InlineData("{\"active\":true,\"sub\":\"alice\"")]
    public async Task Verify_AnswerNotJsonOrWrongShape_503(string body)
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.RawBody = body;
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("503 introspection_unavailable", await AccessHost.OutcomeAsync(response));
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Verify_SlowEndpoint_503AfterTheAttemptTimeout()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token);
        server.Delay = TimeSpan.FromSeconds(10);
        await using var host = await HostAsync(server, o =>
        {
            o.Introspection.AttemptTimeoutMs = 300;
            o.Introspection.TotalTimeoutMs = 600;
        });
        var clock = Stopwatch.StartNew();

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("503 introspection_unavailable", await AccessHost.OutcomeAsync(response));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"answered after {clock.Elapsed}");
        Assert.Contains("timed out", (await host.Logs.WaitForAsync(40)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DeadEndpoint_503()
    {
        await using var host = await AccessHost.StartAsync(o =>
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = IntrospectionServer.DeadUrl() }]);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("503 introspection_unavailable", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_EndpointClosesConnections_503()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.CloseConnections = true;
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("503 introspection_unavailable", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_PrefixWithoutEndpoint_401AndNoCall()
    {
        await using var server = await IntrospectionServer.StartAsync();
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync("xyz_0123456789abcdef");

        Assert.Equal("401 malformed_token", await AccessHost.OutcomeAsync(response));
        Assert.Equal(0, server.Total);
    }

    [Fact]
    public async Task Verify_IntrospectionNotConfigured_OpaqueToken401()
    {
        await using var host = await AccessHost.StartAsync();

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("401 malformed_token", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_JwtWhileIntrospectionConfigured_StillVerifiedLocally()
    {
        await using var server = await IntrospectionServer.StartAsync();
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(host.Jwt("jwt-user"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("jwt-user", Assert.Single(response.Headers.GetValues("X-Auth-Subject")));
        Assert.Equal(0, server.Total);
    }

    [Fact]
    public async Task Verify_SeveralPrefixes_EachGoesToItsEndpointLongestPrefixFirst()
    {
        await using var a = await IntrospectionServer.StartAsync();
        await using var b = await IntrospectionServer.StartAsync();
        a.Active("evt_one", "from-a");
        b.Active("svc_two", "from-b");
        b.Active("evt_live_three", "from-b-live");
        await using var host = await AccessHost.StartAsync(o => o.Introspection.Endpoints =
        [
            new() { Prefix = "evt_", Url = a.Url },
            new() { Prefix = "svc_", Url = b.Url },
            new() { Prefix = "evt_live_", Url = b.Url },
        ]);

        using var one = await host.VerifyAsync("evt_one");
        using var two = await host.VerifyAsync("svc_two");
        using var three = await host.VerifyAsync("evt_live_three");

        Assert.Equal("from-a", Assert.Single(one.Headers.GetValues("X-Auth-Subject")));
        Assert.Equal("from-b", Assert.Single(two.Headers.GetValues("X-Auth-Subject")));
        Assert.Equal("from-b-live", Assert.Single(three.Headers.GetValues("X-Auth-Subject")));
        Assert.Equal(1, a.Total);
        Assert.Equal(2, b.Total);
    }

    [Theory]
    [InlineData("evt_abc\"def")]
    [InlineData("evt_abc%20def")]
    [InlineData("evt_abc{}")]
    public async Task Verify_OpaqueTokenOutsideB64TokenAlphabet_401WithoutCall(string token)
    {
        await using var server = await IntrospectionServer.StartAsync();
        await using var host = await HostAsync(server);

        using var response = await host.VerifyAsync(token);

        Assert.Equal("401 malformed_token", await AccessHost.OutcomeAsync(response));
        Assert.Equal(0, server.Total);
    }

    [Fact]
    public async Task Verify_ActiveButExpiredPastSkew_401Expired()
    {
        await using var server = await IntrospectionServer.StartAsync();
        await using var host = await HostAsync(server);
        server.Active(Token, extra: $"\"exp\":{host.Time.GetUtcNow().ToUnixTimeSeconds() - 120}");

        using var response = await host.VerifyAsync(Token);

        Assert.Equal("401 expired", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task ApiVerify_OpaqueToken_ReportsIntrospectedClaims()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active(Token, "alice", "\"scope\":\"read write\",\"client_id\":\"player\"");
        await using var host = await HostAsync(server);

        using var response = await host.Client.PostAsync("/v1/verify", new StringContent($"{{\"token\":\"{Token}\"}}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.True(json.RootElement.GetProperty("introspected").GetBoolean());
        Assert.Equal("alice", json.RootElement.GetProperty("sub").GetString());
        Assert.Equal("player", json.RootElement.GetProperty("claims").GetProperty("client_id").GetString());
        Assert.False(json.RootElement.TryGetProperty("alg", out _));
    }
}
