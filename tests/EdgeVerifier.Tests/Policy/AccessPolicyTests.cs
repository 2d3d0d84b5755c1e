using System.Net;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Tests.Support;
using Microsoft.Extensions.Logging;

namespace EdgeVerifier.Tests.Policy;

/// <summary>
/// Required scopes, the path scope, public paths and query-parameter tokens through
/// <c>/verify</c> (and <c>/v1/verify</c>) on real Kestrel.
/// </summary>
public sealed class AccessPolicyTests
{
    private static Task<AccessHost> ScopesAsync(params string[] scopes) =>
        AccessHost.StartAsync(o => o.Policy.RequiredScopes = scopes);

    private static Task<AccessHost> PathScopeAsync(Action<Configuration.VerifierOptions>? more = null) =>
        AccessHost.StartAsync(o =>
        {
            o.Policy.PathScopeClaim = "path";
            more?.Invoke(o);
        });

    [Theory]
    [InlineData("\"scope\":\"video:read\"")]
    [InlineData("\"scope\":\"openid video:read  profile\"")]
    [InlineData("\"scp\":[\"openid\",\"video:read\"]")]
    [InlineData("\"scp\":\"video:read openid\"")]
    [InlineData("\"scope\":\"video\\u003aread\"")]
    public async Task Verify_TokenHoldsRequiredScope_200(string claims)
    {
        await using var host = await ScopesAsync("video:read");

        using var response = await host.VerifyAsync(host.Jwt(extra: claims));

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("\"scope\":\"video:write\"")]
    [InlineData("\"scope\":\"video:read-all\"")]
    [InlineData("\"scope\":\"\"")]
    [InlineData("\"scp\":[\"video:readx\"]")]
    [InlineData("\"scp\":[]")]
    public async Task Verify_TokenLacksRequiredScope_403WithChallenge(string? claims)
    {
        await using var host = await ScopesAsync("video:read", "edge");

        using var response = await host.VerifyAsync(host.Jwt(extra: claims is null ? "\"scope\":\"edge\"" : claims + ",\"scope2\":1"));

        Assert.Equal("403 insufficient_scope", await AccessHost.OutcomeAsync(response));
        Assert.Equal(
            "Bearer error=\"insufficient_scope\", scope=\"video:read edge\", error_description=\"the token lacks a required scope\"",
            response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Verify_AllRequiredScopesAcrossScopeAndScp_200()
    {
        await using var host = await ScopesAsync("a", "b", "c");

        using var all = await host.VerifyAsync(host.Jwt(extra: "\"scope\":\"a b\",\"scp\":[\"c\"]"));
        using var some = await host.VerifyAsync(host.Jwt(extra: "\"scope\":\"a b\""));

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(all));
        Assert.Equal("403 insufficient_scope", await AccessHost.OutcomeAsync(some));
    }

    [Theory]
    [InlineData("\"scope\":[\"video:read\"]")]
    [InlineData("\"scope\":42")]
    [InlineData("\"scp\":[1]")]
    [InlineData("\"scope\":\"video:read\",\"scope\":\"x\"")]
    public async Task Verify_ScopeClaimOfWrongType_401Malformed(string claims)
    {
        await using var host = await ScopesAsync("video:read");

        using var response = await host.VerifyAsync(host.Jwt(extra: claims));

        Assert.Equal("401 malformed_token", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_NoScopesConfigured_ScopeClaimNotRead()
    {
        await using var host = await AccessHost.StartAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: "\"scope\":42"));

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_IntrospectedTokenScopes_Checked()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active("evt_reader", extra: "\"scope\":\"video:read other\"");
        server.Active("evt_writer", extra: "\"scope\":\"video:write\"");
        await using var host = await AccessHost.StartAsync(o =>
        {
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url }];
            o.Policy.RequiredScopes = ["video:read"];
        });

        using var reader = await host.VerifyAsync("evt_reader");
        using var writer = await host.VerifyAsync("evt_writer");

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(reader));
        Assert.Equal("403 insufficient_scope", await AccessHost.OutcomeAsync(writer));
    }

    [Theory]
    [InlineData("/videos/123", "/videos/123")]
    [InlineData("/videos/123", "/videos/123/seg-1.ts")]
    [InlineData("/videos/123", "/videos/123/seg-1.ts?start=10")]
    [InlineData("/videos/123/", "/videos/123/a/b/c.ts")]
    [InlineData("/videos/123", "/videos/123/a%20b.ts")]
    public async Task Verify_TargetUnderPathScope_200(string scope, string target)
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: $"\"path\":\"{scope}\""), forwardedUri: target);

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
    }

    [Theory]
    [InlineData("/videos/1234")]
    [InlineData("/videos/12")]
    [InlineData("/videos")]
    [InlineData("/videos/456/seg.ts")]
    [InlineData("/VIDEOS/123")]
    public async Task Verify_TargetOutsidePathScope_403PathNotAllowed(string target)
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: "\"path\":\"/videos/123\""), forwardedUri: target);

        Assert.Equal("403 path_not_allowed", await AccessHost.OutcomeAsync(response));
        Assert.StartsWith("Bearer error=\"insufficient_scope\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The escapes a proxy can forward in a header (HTTP header values are ASCII).</summary>
    public static TheoryData<string> HeaderEscapes()
    {
        var data = new TheoryData<string>();
        foreach (var target in RequestPathTests.Escapes())
        {
            if (target.Length > 0 && !target.Any(c => c > '~'))
            {
                data.Add(target);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(HeaderEscapes))]
    public async Task Verify_EscapeFromPathScope_Refused(string escape)
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: "\"path\":\"/videos/123\""), originalUri: escape);

        Assert.Equal("403 path_not_allowed", await AccessHost.OutcomeAsync(response));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("/videos/123", "/videos/456")]
    public async Task Verify_PathScopedTokenWithoutOneClearTarget_403(string? forwarded, string? original)
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: "\"path\":\"/videos/123\""), forwarded, original);

        Assert.Equal("403 path_not_allowed", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_BothTargetHeadersAgree_Checked()
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: "\"path\":\"/videos/123\""), "/videos/123/a.ts", "/videos/123/a.ts");

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
    }

    [Theory]
    [InlineData("/videos/../admin")]
    [InlineData("videos/123")]
    [InlineData("/videos//123")]
    public async Task Verify_PathScopeClaimNotCanonical_LimitsTheTokenToNothing(string claim)
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: $"\"path\":\"{claim}\""), forwardedUri: "/videos/123/a.ts");

        Assert.Equal("403 path_not_allowed", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_TokenWithoutPathClaim_NotLimited()
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(), forwardedUri: "/anything/../at/all");

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_PathClaimOfWrongType_401Malformed()
    {
        await using var host = await PathScopeAsync();

        using var response = await host.VerifyAsync(host.Jwt(extra: "\"path\":[\"/videos/123\"]"), forwardedUri: "/videos/123");

        Assert.Equal("401 malformed_token", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_IntrospectedTokenPathScope_Checked()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active("evt_scoped", extra: "\"path\":\"/videos/123\"");
        await using var host = await PathScopeAsync(o => o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url }]);

        using var inside = await host.VerifyAsync("evt_scoped", forwardedUri: "/videos/123/a.ts");
        using var outside = await host.VerifyAsync("evt_scoped", forwardedUri: "/videos/123/%2e%2e/124/a.ts");

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(inside));
        Assert.Equal("403 path_not_allowed", await AccessHost.OutcomeAsync(outside));
    }

    [Theory]
    [InlineData("/public/logo.png")]
    [InlineData("/public")]
    [InlineData("/health/live?x=1")]
    public async Task Verify_PublicPath_200WithoutToken(string target)
    {
        await using var host = await AccessHost.StartAsync(o => o.Policy.PublicPaths = ["/public/", "/health/live"]);

        using var response = await host.VerifyAsync(null, forwardedUri: target);

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
        Assert.False(response.Headers.Contains("X-Auth-Subject"));
    }

    [Theory]
    [InlineData("/publicity")]
    [InlineData("/public/../private/x")]
    [InlineData("/public/%2e%2e/private/x")]
    [InlineData("/public%2f..%2fprivate")]
    [InlineData("//public/x")]
    [InlineData("/health/liveness")]
    [InlineData("/private")]
    public async Task Verify_NotPublicOrEscapingPublic_NeedsToken(string target)
    {
        await using var host = await AccessHost.StartAsync(o => o.Policy.PublicPaths = ["/public/", "/health/live"]);

        using var response = await host.VerifyAsync(null, forwardedUri: target);

        Assert.Equal("401 missing_token", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_PublicPathNoTargetHeader_NeedsToken()
    {
        await using var host = await AccessHost.StartAsync(o => o.Policy.PublicPaths = ["/"]);

        using var response = await host.VerifyAsync(null);

        Assert.Equal("401 missing_token", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_QueryParameterInForwardedTarget_200()
    {
        await using var host = await AccessHost.StartAsync(o => o.Policy.QueryParameter = "access_token");
        var token = host.Jwt("player");

        using var response = await host.VerifyAsync(null, originalUri: "/videos/123/seg.ts?access_token=" + token + "&x=1");

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
        Assert.Equal("player", Assert.Single(response.Headers.GetValues("X-Auth-Subject")));
    }

    [Fact]
    public async Task Verify_QueryParameterOnTheVerifyRequest_200()
    {
        await using var host = await AccessHost.StartAsync(o => o.Policy.QueryParameter = "access_token");

        using var response = await host.VerifyAsync(null, path: "/verify?access_token=" + host.Jwt());

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_QueryParameterNotConfigured_Ignored()
    {
        await using var host = await AccessHost.StartAsync();

        using var response = await host.VerifyAsync(null, originalUri: "/v?access_token=" + host.Jwt());

        Assert.Equal("401 missing_token", await AccessHost.OutcomeAsync(response));
    }

    [Theory]
    [InlineData(true, "/v?access_token={0}", "401 multiple_tokens")]
    [InlineData(false, "/v?access_token={0}&access_token={0}", "401 multiple_tokens")]
    [InlineData(false, "/v?access_token=", "401 missing_token")]
    [InlineData(false, "/v?access_token=%zz", "401 malformed_token")]
    [InlineData(false, "/v?access_token={0}x", "401 malformed_token")]
    public async Task Verify_QueryParameterEdgeCases(bool withHeader, string target, string expected)
    {
        await using var host = await AccessHost.StartAsync(o => o.Policy.QueryParameter = "access_token");
        var token = host.Jwt();

        using var response = await host.VerifyAsync(withHeader ? token : null, originalUri: string.Format(System.Globalization.CultureInfo.InvariantCulture, target, token));

        Assert.Equal(expected, await AccessHost.OutcomeAsync(response));
    }

    [Fact]
    public async Task Verify_QueryParameterToken_NeverLogged()
    {
        // Everything at Trace, the host's request logging asked for explicitly: the token must still not appear.
        await using var host = await AccessHost.StartAsync(
            o =>
            {
                o.Policy.QueryParameter = "access_token";
                o.Policy.PathScopeClaim = "path";
            },
            new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Trace",
                ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace", // would log every request line with its query
            },
            LogLevel.Trace);
        var token = host.Jwt();
        var refused = host.Jwt("other", "\"path\":\"/videos/2\"");

        using var ok = await host.VerifyAsync(null, path: "/verify?access_token=" + token);
        using var pathRefused = await host.VerifyAsync(null, originalUri: "/videos/1/a.ts?access_token=" + refused);
        var forged = TestTokens.Sign(TestKeys.Fresh(EdgeVerifier.Tokens.SigningAlgorithm.ES256, "k-ES256"), TestTokens.Payload(host.Time.GetUtcNow()));
        using var badSignature = await host.VerifyAsync(null, originalUri: "/videos/1/a.ts?access_token=" + forged);

        Assert.Equal("200 -", await AccessHost.OutcomeAsync(ok));
        Assert.Equal("403 path_not_allowed", await AccessHost.OutcomeAsync(pathRefused));
        Assert.Equal("401 bad_signature", await AccessHost.OutcomeAsync(badSignature));
        var masked = await host.Logs.WaitForAsync(60);
        Assert.Contains("access_token=***", masked.Message, StringComparison.Ordinal);
        foreach (var entry in host.Logs.Entries)
        {
            Assert.DoesNotContain(token, entry.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(refused, entry.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(forged.Split('.')[2], entry.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Split('.')[2], entry.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ApiVerify_SamePolicyApplies()
    {
        await using var host = await AccessHost.StartAsync(o =>
        {
            o.Policy.RequiredScopes = ["video:read"];
            o.Policy.PathScopeClaim = "path";
        });

        async Task<(int Status, string? Error)> PostAsync(string token, string? target)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/verify")
            {
                Content = new StringContent($"{{\"token\":\"{token}\"}}", Encoding.UTF8, "application/json"),
            };
            if (target is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Original-URI", target);
            }

            using var response = await host.Client.SendAsync(request);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return ((int)response.StatusCode, json.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null);
        }

        Assert.Equal((200, null), await PostAsync(host.Jwt(extra: "\"scope\":\"video:read\""), null));
        Assert.Equal((403, "insufficient_scope"), await PostAsync(host.Jwt(), null));
        Assert.Equal((200, null), await PostAsync(host.Jwt(extra: "\"scope\":\"video:read\",\"path\":\"/v/1\""), "/v/1/a"));
        Assert.Equal((403, "path_not_allowed"), await PostAsync(host.Jwt(extra: "\"scope\":\"video:read\",\"path\":\"/v/1\""), "/v/2/a"));
    }
}
