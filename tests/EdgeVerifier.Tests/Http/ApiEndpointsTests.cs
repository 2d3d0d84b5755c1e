using System.Net;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Http;

/// <summary><c>POST /v1/verify</c> and <c>GET /v1/time</c>.</summary>
public sealed class ApiEndpointsTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(AppHost host, HttpContent? content, string? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/verify") { Content = content };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await host.Client.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    [Fact]
    public async Task ApiVerify_ValidTokenInBody_Returns200WithClaims()
    {
        await using var host = await AppHost.StartAsync();
        var now = host.Time.GetUtcNow();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(now, extra: "\"scope\":\"read write\",\"n\":{\"deep\":[1,2,{\"x\":null}]}"));
        using var content = Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["token"] = token }));

        var (status, body) = await PostAsync(host, content);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("valid").GetBoolean());
        Assert.Equal("user-1", body.GetProperty("sub").GetString());
        Assert.Equal(TestTokens.Issuer, body.GetProperty("iss").GetString());
        Assert.Equal("k-ES256", body.GetProperty("kid").GetString());
        Assert.Equal("ES256", body.GetProperty("alg").GetString());
        Assert.Equal(now.ToUnixTimeSeconds() + 3600, body.GetProperty("exp").GetInt64());
        var claims = body.GetProperty("claims");
        Assert.Equal("user-1", claims.GetProperty("sub").GetString());
        Assert.Equal(TestTokens.Audience, claims.GetProperty("aud").GetString());
        Assert.Equal("read write", claims.GetProperty("scope").GetString());
        Assert.Equal(JsonValueKind.Null, claims.GetProperty("n").GetProperty("deep")[2].GetProperty("x").ValueKind);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("requestId").GetString()));
        Assert.False(body.TryGetProperty("error", out _));
    }

    [Fact]
    public async Task ApiVerify_NonAsciiClaims_ReturnedAsJson()
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(host.Time.GetUtcNow(), sub: "Zo\u00eb\\n\\\"q\\\""));
        using var content = Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["token"] = token }));

        var (status, body) = await PostAsync(host, content);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Zo\u00eb\n\"q\"", body.GetProperty("sub").GetString());
        Assert.Equal("Zo\u00eb\n\"q\"", body.GetProperty("claims").GetProperty("sub").GetString());
    }

    public static TheoryData<string> HostilePayloadHex() => new()
    {
        // {"iss":…,"aud":"edge","exp":…,"x":"<0xFF>"}: invalid UTF-8 inside an unchecked claim.
        "ff",
        // A lone UTF-8 continuation byte, an overlong '/', and a truncated 3-byte sequence.
        "80",
        "c0af",
        "e282",
        // An encoded surrogate half (CESU-8 style), not valid UTF-8.
        "eda080",
    };

    [Theory]
    [MemberData(nameof(HostilePayloadHex))]
    public async Task ApiVerify_SignedPayloadWithInvalidUtf8_AnswersValidJsonNotAnError(string hex)
    {
        await using var host = await AppHost.StartAsync();
        var now = host.Time.GetUtcNow().ToUnixTimeSeconds();
        var payload = new List<byte>(Encoding.UTF8.GetBytes($"{{\"iss\":\"{TestTokens.Issuer}\",\"aud\":\"edge\",\"sub\":\"u\",\"exp\":{now + 600},\"x\":\"a"));
        payload.AddRange(Convert.FromHexString(hex));
        payload.AddRange("b\"}"u8.ToArray());
        var token = EdgeVerifier.Tokens.TokenWriter.SignRaw(TestKeys.For(SigningAlgorithm.ES256), "{\"alg\":\"ES256\",\"kid\":\"k-ES256\"}"u8, payload.ToArray());
        using var content = Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["token"] = token }));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/verify") { Content = content };

        using var response = await host.Client.SendAsync(request);

        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized, $"status {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        using var body = JsonDocument.Parse(bytes);
        var valid = body.RootElement.GetProperty("valid").GetBoolean();
        Assert.Equal(response.StatusCode == HttpStatusCode.OK, valid);
        if (!valid)
        {
            Assert.Equal("malformed_token", body.RootElement.GetProperty("error").GetString());
        }

        // /verify must agree with /v1/verify about the same token.
        using var forward = new HttpRequestMessage(HttpMethod.Get, "/verify");
        forward.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var forwardResponse = await host.Client.SendAsync(forward);
        Assert.Equal(response.StatusCode, forwardResponse.StatusCode);
    }

    [Theory]
    [InlineData("bad_signature")]
    [InlineData("expired")]
    [InlineData("malformed_token")]
    [InlineData("unknown_kid")]
    public async Task ApiVerify_InvalidToken_Returns401WithError(string code)
    {
        await using var host = await AppHost.StartAsync();
        var now = host.Time.GetUtcNow();
        var es256 = TestKeys.For(SigningAlgorithm.ES256);
        var valid = TestTokens.Valid(SigningAlgorithm.ES256, now);
        var token = code switch
        {
            "bad_signature" => TestTokens.Sign(TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256"), TestTokens.Payload(now)),
            "expired" => TestTokens.Sign(es256, TestTokens.Payload(now - TimeSpan.FromDays(1))),
            "malformed_token" => valid.Replace('.', '!'),
            _ => TestTokens.Sign(es256, TestTokens.Payload(now), kid: "no-such-kid"),
        };
        using var content = Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["token"] = token }));

        var (status, body) = await PostAsync(host, content);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.False(body.GetProperty("valid").GetBoolean());
        Assert.Equal(code, body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        Assert.False(body.TryGetProperty("sub", out _));
        Assert.False(body.TryGetProperty("claims", out _));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{")]
    [InlineData("{\"token\":5}")]
    [InlineData("{\"token\":{\"a\":1}}")]
    [InlineData("[\"a.b.c\"]")]
    [InlineData("\"a.b.c\"")]
    [InlineData("{\"token\":\"a\"} trailing")]
    [InlineData("{\"token\":\"a\",}")]
    public async Task ApiVerify_BodyNotAJsonObject_Returns400InvalidRequest(string json)
    {
        await using var host = await AppHost.StartAsync();
        using var content = Json(json);

        var (status, body) = await PostAsync(host, content);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(body.GetProperty("valid").GetBoolean());
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ApiVerify_DeeplyNestedBody_Returns400InvalidRequest()
    {
        await using var host = await AppHost.StartAsync();
        using var content = Json("{\"x\":" + new string('[', 5000) + new string(']', 5000) + ",\"token\":\"a\"}");

        var (status, body) = await PostAsync(host, content);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ApiVerify_BodyOverKestrelLimit_Returns4xxNot500()
    {
        await using var host = await AppHost.StartAsync();
        using var content = Json("{\"token\":\"" + new string('a', 100_000) + "\"}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/verify") { Content = content };

        using var response = await host.Client.SendAsync(request);

        Assert.InRange((int)response.StatusCode, 400, 499);
    }

    [Fact]
    public async Task ApiVerify_TokenOverConfiguredLimit_Returns401TokenTooLarge()
    {
        await using var host = await AppHost.StartAsync(o => o.MaxTokenBytes = 512);
        using var content = Json("{\"token\":\"" + new string('a', 513) + "\"}");

        var (status, body) = await PostAsync(host, content);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("token_too_large", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"token\":\"\"}")]
    [InlineData("{\"token\":null}")]
    [InlineData("null")]
    public async Task ApiVerify_BodyWithoutTokenAndAuthorizationHeader_UsesHeader(string json)
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithm.ES256, host.Time.GetUtcNow(), sub: "from-header");
        using var content = Json(json);

        var (status, body) = await PostAsync(host, content, "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("from-header", body.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task ApiVerify_NoBodyAndAuthorizationHeader_UsesHeader()
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithm.ES256, host.Time.GetUtcNow(), sub: "from-header");

        var (status, body) = await PostAsync(host, null, "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("from-header", body.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task ApiVerify_TokenInBodyAndHeader_BodyWins()
    {
        await using var host = await AppHost.StartAsync();
        var now = host.Time.GetUtcNow();
        var inBody = TestTokens.Valid(SigningAlgorithm.ES256, now, sub: "from-body");
        var inHeader = TestTokens.Valid(SigningAlgorithm.ES256, now, sub: "from-header");
        using var content = Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["token"] = inBody }));

        var (status, body) = await PostAsync(host, content, "Bearer " + inHeader);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("from-body", body.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task ApiVerify_NoTokenAnywhere_Returns401MissingToken()
    {
        await using var host = await AppHost.StartAsync();
        using var content = Json("{}");

        var (status, body) = await PostAsync(host, content);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("missing_token", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ApiVerify_Get_Returns405()
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.GetAsync("/v1/verify");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Time_Get_ReturnsFakeClockUnixSeconds()
    {
        await using var host = await AppHost.StartAsync();

        using (var response = await host.Client.GetAsync("/v1/time"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(VerifierHarness.Start.ToUnixTimeSeconds(), body.RootElement.GetProperty("now").GetInt64());
        }

        host.Time.Advance(TimeSpan.FromSeconds(90.7));

        using var later = await host.Client.GetAsync("/v1/time");
        using var laterBody = JsonDocument.Parse(await later.Content.ReadAsStringAsync());
        Assert.Equal(VerifierHarness.Start.ToUnixTimeSeconds() + 90, laterBody.RootElement.GetProperty("now").GetInt64());
    }
}
