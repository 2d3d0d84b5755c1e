using System.Net;
using System.Text.Json;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Http;

/// <summary><c>GET|HEAD|POST /verify[/{**path}]</c> over real Kestrel on 127.0.0.1.</summary>
public sealed class ForwardAuthEndpointTests
{
    private static DateTimeOffset Now(AppHost host) => host.Time.GetUtcNow();

    private static HttpRequestMessage Request(HttpMethod method, string path, string? authorization)
    {
        var request = new HttpRequestMessage(method, path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return request;
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.GetValues(header));

    [Theory]
    [InlineData("GET", "/verify")]
    [InlineData("HEAD", "/verify")]
    [InlineData("POST", "/verify")]
    [InlineData("GET", "/verify/some/deep/path")]
    [InlineData("POST", "/verify/some/deep/path?x=1")]
    public async Task Verify_ValidToken_Returns200WithIdentityHeaders(string method, string path)
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now(host));

        using var response = await host.Client.SendAsync(Request(new HttpMethod(method), path, "Bearer " + token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user-1", Single(response, "X-Auth-Subject"));
        Assert.Equal(TestTokens.Issuer, Single(response, "X-Auth-Issuer"));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Verify_ValidTokenEveryAlgorithm_Returns200(string alg)
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), Now(host), sub: "sub-" + alg);

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("sub-" + alg, Single(response, "X-Auth-Subject"));
    }

    public static TheoryData<string> Algorithms()
    {
        var data = new TheoryData<string>();
        foreach (var alg in SigningAlgorithms.All)
        {
            data.Add(alg.Name());
        }

        return data;
    }

    [Fact]
    public async Task Verify_ClaimHeadersConfigured_AddsMappedHeaders()
    {
        await using var host = await AppHost.StartAsync(o => o.ClaimHeaders = new(StringComparer.Ordinal)
        {
            ["role"] = "X-Auth-Role",
            ["groups"] = "X-Auth-Groups",
            ["level"] = "X-Auth-Level",
            ["absent"] = "X-Auth-Absent",
        });
        var token = TestTokens.Sign(
            TestKeys.For(SigningAlgorithm.ES256),
            TestTokens.Payload(Now(host), extra: "\"role\":\"admin\",\"groups\":[\"a\",\"b\"],\"level\":7"));

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("admin", Single(response, "X-Auth-Role"));
        Assert.Equal("a,b", Single(response, "X-Auth-Groups"));
        Assert.Equal("7", Single(response, "X-Auth-Level"));
        Assert.False(response.Headers.Contains("X-Auth-Absent"));
    }

    [Theory]
    [InlineData("Zo\u00eb", "Zo%C3%AB")]
    [InlineData("\\u7528\\u6237", "%E7%94%A8%E6%88%B7")]
    [InlineData("a\\r\\nX-Injected: yes", "a%0D%0AX-Injected: yes")]
    [InlineData("a\\nX-Injected: yes", "a%0AX-Injected: yes")]
    [InlineData("tab\\there", "tab%09here")]
    [InlineData("nul\\u0000", "nul%00")]
    [InlineData("del\\u007f", "del%7F")]
    [InlineData("50%\\n", "50%25%0A")]
    [InlineData("emoji \\ud83d\\ude00", "emoji %F0%9F%98%80")]
    public async Task Verify_SubjectWithUnsafeCharacters_IsPercentEncoded(string jsonSubject, string expectedHeader)
    {
        await using var host = await AppHost.StartAsync(o => o.ClaimHeaders = new(StringComparer.Ordinal) { ["role"] = "X-Auth-Role" });
        var token = TestTokens.Sign(
            TestKeys.For(SigningAlgorithm.ES256),
            TestTokens.Payload(Now(host), sub: jsonSubject, extra: $"\"role\":\"{jsonSubject}\""));

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expectedHeader, Single(response, "X-Auth-Subject"));
        Assert.Equal(expectedHeader, Single(response, "X-Auth-Role"));
        Assert.False(response.Headers.Contains("X-Injected"));
    }

    [Fact]
    public async Task Verify_SubjectWithCrLf_RawResponseHasNoInjectedHeaderLine()
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(Now(host), sub: "x\\r\\nX-Injected: yes\\r\\n\\r\\nbody"));

        var response = await RawHttp.GetAsync(host.Client.BaseAddress!, "/verify", "Bearer " + token, TimeSpan.FromSeconds(5));

        Assert.Equal(200, response.Status);
        Assert.False(response.HasHeader("X-Injected"));
        Assert.Contains("\r\nX-Auth-Subject: x%0D%0AX-Injected: yes%0D%0A%0D%0Abody", response.Head, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Refusals(DateTimeOffset now)
    {
        var es256 = TestKeys.For(SigningAlgorithm.ES256);
        var valid = TestTokens.Valid(SigningAlgorithm.ES256, now);
        var lastDot = valid.LastIndexOf('.');
        var otherSignature = TestTokens.Valid(SigningAlgorithm.ES256, now, sub: "someone-else");
        return new TheoryData<string, string>
        {
            // Another token's signature under this header and payload.
            { valid[..lastDot] + otherSignature[otherSignature.LastIndexOf('.')..], "bad_signature" },
            { TestTokens.Sign(es256, TestTokens.Payload(now - TimeSpan.FromHours(3))), "expired" },
            { TestTokens.Sign(TestKeys.Fresh(SigningAlgorithm.ES256, "nobody-has-this"), TestTokens.Payload(now)), "unknown_kid" },
            { "not-a-jwt", "malformed_token" },
            { "a.b", "malformed_token" },
            { valid[..(lastDot + 1)], "malformed_token" },
            { TestTokens.Sign(es256, TestTokens.Payload(now), kid: "../k-ES256"), "invalid_kid" },
            { TestTokens.SignRaw(es256, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", TestTokens.Payload(now)), "missing_kid" },
            { TestTokens.Sign(es256, TestTokens.Payload(now + TimeSpan.FromHours(1)).Replace("\"iat\"", "\"nbf\"", StringComparison.Ordinal)), "not_yet_valid" },
            { TestTokens.Sign(es256, TestTokens.Payload(now).Replace(TestTokens.Issuer, "https://evil.test", StringComparison.Ordinal)), "bad_issuer" },
            { TestTokens.Sign(es256, TestTokens.Payload(now).Replace("\"aud\":\"edge\"", "\"aud\":\"other\"", StringComparison.Ordinal)), "bad_audience" },
            { TestTokens.SignRaw(es256, "{\"alg\":\"ES256\",\"kid\":\"k-RS256\"}", TestTokens.Payload(now)), "key_alg_mismatch" },
            { TestTokens.SignRaw(es256, "{\"alg\":\"none\",\"kid\":\"k-ES256\"}", TestTokens.Payload(now)), "unsupported_alg" },
        };
    }

    public static TheoryData<string, string> RefusalCases() => Refusals(VerifierHarness.Start);

    [Theory]
    [MemberData(nameof(RefusalCases))]
    public async Task Verify_RefusedToken_Returns401WithChallengeAndJsonBody(string token, string code)
    {
        await using var host = await AppHost.StartAsync();
        Assert.True(VerifyErrors.TryParse(code, out var error));

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal($"Bearer error=\"invalid_token\", error_description=\"{error.Message()}\"", Single(response, "WWW-Authenticate"));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("X-Auth-Subject"));
        var requestId = Single(response, "X-Request-ID");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, body.RootElement.GetProperty("error").GetString());
        Assert.Equal(error.Message(), body.RootElement.GetProperty("message").GetString());
        Assert.Equal(requestId, body.RootElement.GetProperty("requestId").GetString());
        Assert.Equal(3, body.RootElement.EnumerateObject().Count());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Bearer \t ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearerabc.def.ghi")]
    [InlineData("Token abc.def.ghi")]
    public async Task Verify_NoBearerToken_Returns401MissingTokenWithBareChallenge(string? authorization)
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", authorization));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Single(response, "WWW-Authenticate"));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("missing_token", body.RootElement.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("bearer {0}")]
    [InlineData("BEARER {0}")]
    [InlineData("Bearer   {0}")]
    [InlineData("Bearer\t{0}")]
    [InlineData("Bearer {0} \t")]
    public async Task Verify_SchemeCaseAndWhitespaceVariants_Returns200(string format)
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now(host));

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, token)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("Bearer {0} {0}", "multiple_tokens")]
    [InlineData("Bearer {0}, Bearer {0}", "multiple_tokens")]
    [InlineData("Bearer {0},", "multiple_tokens")]
    [InlineData("Bearer \"{0}\"", "malformed_token")]
    [InlineData("Bearer {0}=", "malformed_token")]
    [InlineData("Bearer {0}.", "malformed_token")]
    public async Task Verify_OddCredentialShapes_Returns401WithCode(string format, string code)
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now(host));

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, token)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Verify_TwoAuthorizationHeaderLines_Returns401MultipleTokens()
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now(host));

        // Two separate header lines (HttpClient would fold them into one); CR LF needs the raw client.
        var response = await RawHttp.GetAsync(host.Client.BaseAddress!, "/verify", $"Bearer {token}\r\nAuthorization: Bearer {token}", TimeSpan.FromSeconds(5));

        Assert.Equal(401, response.Status);
        Assert.True(response.HasHeader("WWW-Authenticate"));
    }

    [Fact]
    public async Task Verify_TokenLongerThanLimit_Returns401TokenTooLarge()
    {
        await using var host = await AppHost.StartAsync(o => o.MaxTokenBytes = 1024);
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(Now(host), extra: $"\"pad\":\"{new string('x', 1200)}\""));

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("token_too_large", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Verify_HeadRefused_Returns401WithChallengeAndNoBody()
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Head, "/verify", "Bearer not-a-jwt"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer error=\"invalid_token\"", Single(response, "WWW-Authenticate"), StringComparison.Ordinal);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Verify_HeadWithoutToken_Returns401BareChallengeAndNoBody()
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Head, "/verify", null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Single(response, "WWW-Authenticate"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Verify_ClockAdvancesPastExpiry_Returns401Expired()
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(Now(host), TimeSpan.FromMinutes(10)));
        using (var before = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // exp + the 60 s default skew is the last accepted instant.
        host.Time.Advance(TimeSpan.FromMinutes(11));

        using var after = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        using var body = JsonDocument.Parse(await after.Content.ReadAsStringAsync());
        Assert.Equal("expired", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Verify_KeyFileUnreadable_Returns503WithRetryAfter()
    {
        await using var host = await AppHost.StartAsync(o => o.RetryAfterSeconds = 7);
        var key = TestKeys.Fresh(SigningAlgorithm.ES256, "unreadable");

        // A directory where the key file should be: it exists but cannot be read as a file.
        Directory.CreateDirectory(host.Directory.File("unreadable.jwk"));
        var token = TestTokens.Sign(key, TestTokens.Payload(Now(host)));

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/verify", "Bearer " + token));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("7", Single(response, "Retry-After"));
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("key_source_unavailable", body.RootElement.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Verify_OtherMethods_Returns405(string method)
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.SendAsync(Request(new HttpMethod(method), "/verify", "Bearer x"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
