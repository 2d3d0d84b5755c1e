using System.Net;
using System.Text.Json;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Replay;

/// <summary><c>OneTimeTokens</c>: each token's <c>jti</c> opens <c>/verify</c> once, through the same ring as DPoP.</summary>
public sealed class OneTimeTokenTests : IAsyncLifetime
{
    private AppHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(o => o.OneTimeTokens = true);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private DateTimeOffset Now => _host.Time.GetUtcNow();

    private string Token(string? jti, DateTimeOffset? issuedAt = null) =>
        TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(issuedAt ?? Now, extra: jti is null ? null : $"\"jti\":\"{jti}\""));

    private static HttpRequestMessage Bearer(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return request;
    }

    private async Task<(HttpStatusCode Status, string? Error, string? Challenge)> VerifyAsync(string token)
    {
        using var response = await _host.Client.SendAsync(Bearer(token));
        var body = await response.Content.ReadAsStringAsync();
        var error = body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.GetProperty("error").GetString();
        var challenge = response.Headers.TryGetValues("WWW-Authenticate", out var values) ? Assert.Single(values) : null;
        return (response.StatusCode, error, challenge);
    }

    [Fact]
    public async Task Verify_OneTimeTokenSecondUse_Returns401Replayed()
    {
        var token = Token("once-1");

        var first = await VerifyAsync(token);
        var second = await VerifyAsync(token);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, second.Status);
        Assert.Equal("replayed", second.Error);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"the token was already used\"", second.Challenge);
    }

    [Fact]
    public async Task Verify_OneTimeTokensWithDistinctJtis_Each200Once()
    {
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(Token("distinct-" + i))).Status);
        }

        Assert.Equal("replayed", (await VerifyAsync(Token("distinct-7"))).Error);
    }

    [Fact]
    public async Task Verify_SameJtiDifferentTokenBytes_Returns401Replayed()
    {
        // The jti is what is single-use, not the token text: a re-issued token with the same jti is refused.
        Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(Token("same-jti"))).Status);
        _host.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("replayed", (await VerifyAsync(Token("same-jti"))).Error);
    }

    [Fact]
    public async Task Verify_OneTimeTokenWithoutJti_Returns401MissingClaim()
    {
        var answer = await VerifyAsync(Token(jti: null));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("missing_claim", answer.Error);
    }

    [Fact]
    public async Task Verify_OneTimeTokenIssuedBeforeTheRing_Returns401Replayed()
    {
        // The ring was created at start-up; it cannot know whether an older token was used before.
        var answer = await VerifyAsync(Token("old", issuedAt: Now.AddSeconds(-30)));

        Assert.Equal("replayed", answer.Error);
    }

    [Fact]
    public async Task Verify_SameOneTimeTokenInConcurrentRequests_ExactlyOne200()
    {
        const int Requests = 16;
        var token = Token("concurrent");

        var answers = await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => VerifyAsync(token)));

        Assert.Equal(1, answers.Count(a => a.Status == HttpStatusCode.OK));
        Assert.Equal(Requests - 1, answers.Count(a => a.Error == "replayed"));
    }

    [Fact]
    public async Task Verify_TokenExpired_ExpiredNotReplayed()
    {
        var token = Token("short");
        Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(token)).Status);

        _host.Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal("expired", (await VerifyAsync(token)).Error);
    }
}
