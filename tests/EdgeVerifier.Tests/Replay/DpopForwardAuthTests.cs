using System.Net;
using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Replay;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Replay;

/// <summary>
/// <c>/verify</c> with <c>Authorization: DPoP</c> over real Kestrel on 127.0.0.1: the proof rules
/// end to end, the challenge (RFC 9449 §7.1), the URL as the proxy forwards it, and replays.
/// </summary>
public sealed class DpopForwardAuthTests : IAsyncLifetime
{
    private const string ForwardAuthEndpointSubject = "X-Auth-Subject";

    private AppHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync();

        // Proofs must be younger than the ring (created at start-up): move past its creation second.
        _host.Time.Advance(TimeSpan.FromMinutes(2));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private DateTimeOffset Now => _host.Time.GetUtcNow();

    /// <summary>The URL the client addressed when no proxy headers say otherwise: the verifier's own.</summary>
    private string DirectUrl(string path = "/verify") => new Uri(_host.Client.BaseAddress!, path).ToString();

    private static HttpRequestMessage Request(string token, string? proof, string method = "GET", string path = "/verify", string scheme = "DPoP", params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {token}");
        if (proof is not null)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private async Task<(HttpStatusCode Status, string? Challenge, string? Error, string? Message, HttpResponseMessage Response)> SendAsync(HttpRequestMessage request)
    {
        var response = await _host.Client.SendAsync(request);
        var challenge = response.Headers.TryGetValues("WWW-Authenticate", out var values) ? Assert.Single(values) : null;
        string? error = null, message = null;
        var body = await response.Content.ReadAsStringAsync();
        if (body.Length > 0)
        {
            using var json = JsonDocument.Parse(body);
            error = json.RootElement.GetProperty("error").GetString();
            message = json.RootElement.GetProperty("message").GetString();
        }

        return (response.StatusCode, challenge, error, message, response);
    }

    private static void AssertProofRefused((HttpStatusCode Status, string? Challenge, string? Error, string? Message, HttpResponseMessage Response) answer, string error = "dpop_invalid")
    {
        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.NotNull(answer.Challenge);
        Assert.StartsWith("DPoP error=\"invalid_dpop_proof\", error_description=\"", answer.Challenge, StringComparison.Ordinal);
        Assert.Contains("algs=\"", answer.Challenge, StringComparison.Ordinal);
        Assert.Equal(error, answer.Error);
        Assert.Equal("no-store", answer.Response.Headers.CacheControl?.ToString());
        Assert.False(answer.Response.Headers.Contains(ForwardAuthEndpointSubject));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("HEAD")]
    public async Task Verify_ValidProofAndBoundToken_Returns200WithIdentity(string method)
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, method, DirectUrl(), Now).Sign();

        var answer = await SendAsync(Request(token, proof, method));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("user-1", Assert.Single(answer.Response.Headers.GetValues(ForwardAuthEndpointSubject)));
        Assert.Null(answer.Challenge);
    }

    [Fact]
    public async Task Verify_SchemeCaseInsensitive_Returns200()
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();

        var answer = await SendAsync(Request(token, proof, scheme: "dpop"));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    public static TheoryData<string> BrokenRules() =>
    [
        "private jwk", "HS256", "typ JWT", "no typ", "htm", "htu path", "iat too old", "iat too new", "ath", "no ath", "no jti",
        "key is not cnf.jkt", "signature", "not a JWS",
    ];

    [Theory]
    [MemberData(nameof(BrokenRules))]
    public async Task Verify_ProofBreaksOneRule_Returns401InvalidDpopProof(string rule)
    {
        var token = DpopTokens.Bound(Now);
        var valid = DpopTokens.Proof(token, "GET", DirectUrl(), Now);
        var proof = rule switch
        {
            "private jwk" => valid with { JwkJson = JsonSerializer.Serialize(DpopTokens.ClientKey.PrivateJwk, JwkJsonContext.Default.Jwk) },
            "HS256" => valid with { Key = TestKeys.For(SigningAlgorithm.HS256) },
            "typ JWT" => valid with { Typ = "JWT" },
            "no typ" => valid with { Typ = null },
            "htm" => valid with { Htm = "POST" },
            "htu path" => valid with { Htu = DirectUrl("/verify/other") },
            "iat too old" => valid with { Iat = Now.ToUnixTimeSeconds() - 61 },
            "iat too new" => valid with { Iat = Now.ToUnixTimeSeconds() + 6 },
            "ath" => valid with { Ath = DpopProofVerifier.AccessTokenHash(token + "x") },
            "no ath" => valid with { Ath = string.Empty },
            "no jti" => valid with { Jti = null },
            "key is not cnf.jkt" => valid with { Key = DpopTokens.OtherClientKey },
            "signature" => valid with { Key = DpopTokens.OtherClientKey, JwkJson = TestKeys.PublicJson(DpopTokens.ClientKey) },
            "not a JWS" => null,
            _ => throw new ArgumentOutOfRangeException(nameof(rule)),
        };

        var answer = await SendAsync(Request(token, proof?.Sign() ?? "not-a-jws"));

        AssertProofRefused(answer);

        // The control: the same request with the valid proof passes.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(Request(token, valid.Sign()))).Status);
    }

    [Fact]
    public async Task Verify_NoProofHeader_Returns401InvalidDpopProof()
    {
        var answer = await SendAsync(Request(DpopTokens.Bound(Now), proof: null));

        AssertProofRefused(answer);
        Assert.Contains("no DPoP proof header", answer.Challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ReplayedProof_Returns401ReplayedInvalidDpopProof()
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(Request(token, proof))).Status);

        _host.Time.Advance(TimeSpan.FromSeconds(30));
        var answer = await SendAsync(Request(token, proof));

        AssertProofRefused(answer, error: "replayed");
    }

    [Fact]
    public async Task Verify_TwoDpopHeaderLines_Returns401InvalidDpopProof()
    {
        var token = DpopTokens.Bound(Now);
        var first = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();
        var second = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();

        var answer = await RawRequest.SendAsync(_host.Client.BaseAddress!, "GET", "/verify", [("Authorization", "DPoP " + token), ("DPoP", first), ("DPoP", second)], TimeSpan.FromSeconds(10));

        Assert.Equal(401, answer.Status);
        var challenge = Assert.Single(answer.Header("WWW-Authenticate"));
        Assert.StartsWith("DPoP error=\"invalid_dpop_proof\"", challenge, StringComparison.Ordinal);
        Assert.Contains("more than one DPoP proof header", challenge, StringComparison.Ordinal);
        Assert.Contains("\"error\":\"dpop_invalid\"", answer.Body, StringComparison.Ordinal);

        // Neither proof was spent: each still works alone.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(Request(token, first))).Status);
    }

    [Fact]
    public async Task Verify_TwoProofsInOneHeaderLine_Returns401InvalidDpopProof()
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();

        AssertProofRefused(await SendAsync(Request(token, proof + ", " + proof)));
    }

    [Fact]
    public async Task Verify_BoundTokenPresentedAsBearer_Returns401DpopRequired()
    {
        var token = DpopTokens.Bound(Now);

        var answer = await SendAsync(Request(token, proof: null, scheme: "Bearer"));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("dpop_required", answer.Error);
        Assert.StartsWith("DPoP error=\"invalid_token\"", answer.Challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_BoundTokenAsBearerEvenWithAProof_Returns401DpopRequired()
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();

        var answer = await SendAsync(Request(token, proof, scheme: "Bearer"));

        Assert.Equal("dpop_required", answer.Error);
    }

    [Fact]
    public async Task Verify_DpopSchemeTokenWithoutCnfJkt_Returns401DpopInvalid()
    {
        var token = TestTokens.Valid(SigningAlgorithm.ES256, Now);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();

        var answer = await SendAsync(Request(token, proof));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("dpop_invalid", answer.Error);
        Assert.StartsWith("DPoP error=\"invalid_token\"", answer.Challenge, StringComparison.Ordinal);
        Assert.Contains("no cnf.jkt", answer.Challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_UnboundTokenAsBearer_StillReturns200()
    {
        var answer = await SendAsync(Request(TestTokens.Valid(SigningAlgorithm.ES256, Now), proof: null, scheme: "Bearer"));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Fact]
    public async Task Verify_DpopSchemeBadTokenSignature_Returns401InvalidTokenDpopChallenge()
    {
        var token = Jws.FlipSignatureByte(DpopTokens.Bound(Now), 3);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();

        var answer = await SendAsync(Request(token, proof));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("bad_signature", answer.Error);
        Assert.StartsWith("DPoP error=\"invalid_token\"", answer.Challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_TraefikForwardedHeaders_HtmAndHtuFromThem()
    {
        // Traefik forwardAuth: X-Forwarded-Method/Proto/Host/Uri describe the client's request.
        var token = DpopTokens.Bound(Now);
        (string, string)[] forwarded = [("X-Forwarded-Method", "PUT"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.example.com"), ("X-Forwarded-Uri", "/orders/7?expand=lines")];
        var proof = DpopTokens.Proof(token, "PUT", "https://api.example.com/orders/7", Now).Sign();

        var answer = await SendAsync(Request(token, proof, headers: forwarded));

        Assert.Equal(HttpStatusCode.OK, answer.Status);

        var wrongMethod = DpopTokens.Proof(token, "GET", "https://api.example.com/orders/7", Now).Sign();
        AssertProofRefused(await SendAsync(Request(token, wrongMethod, headers: forwarded)));

        var wrongPath = DpopTokens.Proof(token, "PUT", "https://api.example.com/orders/8", Now).Sign();
        AssertProofRefused(await SendAsync(Request(token, wrongPath, headers: forwarded)));

        var wrongScheme = DpopTokens.Proof(token, "PUT", "http://api.example.com/orders/7", Now).Sign();
        AssertProofRefused(await SendAsync(Request(token, wrongScheme, headers: forwarded)));
    }

    [Theory]
    [InlineData("https://API.Example.com:443/orders", "https", "api.example.com")]
    [InlineData("https://api.example.com/orders", "https", "API.EXAMPLE.COM:443")]
    [InlineData("http://api.example.com/orders", "http", "api.example.com:80")]
    [InlineData("https://api.example.com:8443/orders", "https", "api.example.com:8443")]
    public async Task Verify_ForwardedHostDefaultPortAndCase_NormalisedBeforeComparing(string htu, string proto, string host)
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", htu, Now).Sign();

        var answer = await SendAsync(Request(token, proof, headers: [("X-Forwarded-Proto", proto), ("X-Forwarded-Host", host), ("X-Forwarded-Uri", "/orders?q=1")]));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Fact]
    public async Task Verify_NginxOriginalUriAndHost_HtuFromThem()
    {
        // nginx auth_request: proxy_set_header X-Original-URI $request_uri; Host $host; X-Forwarded-Proto $scheme.
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "POST", "https://shop.example/cart/items", Now).Sign();
        var request = Request(token, proof, headers: [("X-Original-URI", "/cart/items?session=abc"), ("X-Forwarded-Proto", "https"), ("X-Original-Method", "POST")]);
        request.Headers.Host = "shop.example";

        var answer = await SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.Status);

        var other = DpopTokens.Proof(token, "POST", "https://shop.example/cart", Now).Sign();
        var second = Request(token, other, headers: [("X-Original-URI", "/cart/items"), ("X-Forwarded-Proto", "https"), ("X-Original-Method", "POST")]);
        second.Headers.Host = "shop.example";
        AssertProofRefused(await SendAsync(second));
    }

    [Fact]
    public async Task Verify_ClientAddsForwardedUriBesideNginxOriginalUri_HtuRefused()
    {
        // nginx sets X-Original-URI; a client-sent X-Forwarded-Uri passes through. A proof for /a
        // must not open /b because the client also claims "X-Forwarded-Uri: /a".
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", "https://shop.example/a", Now).Sign();
        var request = Request(token, proof, headers: [("X-Original-URI", "/b"), ("X-Forwarded-Uri", "/a"), ("X-Forwarded-Proto", "https")]);
        request.Headers.Host = "shop.example";

        var answer = await SendAsync(request);

        AssertProofRefused(answer);
        Assert.Contains("htu", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ForwardedMethodDisagreesWithOriginalMethod_HtmRefused()
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", "https://shop.example/a", Now).Sign();
        var request = Request(token, proof, headers: [("X-Original-URI", "/a"), ("X-Original-Method", "DELETE"), ("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "https")]);
        request.Headers.Host = "shop.example";

        var answer = await SendAsync(request);

        AssertProofRefused(answer);
        Assert.Contains("htm", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ForwardedUriWithComma_ComparedWhole()
    {
        // A comma is legal in a path: the URI header is not a list (proto and host are).
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", "https://maps.example/@52.37,4.89", Now).Sign();

        var answer = await SendAsync(Request(token, proof, headers: [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "maps.example"), ("X-Forwarded-Uri", "/@52.37,4.89")]));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Fact]
    public async Task Verify_ProxyAppendedProtoAndHostLists_FirstValueIsTheClients()
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", "https://api.example.com/orders", Now).Sign();

        var answer = await SendAsync(Request(token, proof, headers: [("X-Forwarded-Proto", "https, http"), ("X-Forwarded-Host", "api.example.com, internal:8080"), ("X-Forwarded-Uri", "/orders")]));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Theory]
    [InlineData(-60, HttpStatusCode.OK)]
    [InlineData(-61, HttpStatusCode.Unauthorized)]
    [InlineData(5, HttpStatusCode.OK)]
    [InlineData(6, HttpStatusCode.Unauthorized)]
    public async Task Verify_IatAtTheWindowEdges_FakeClock(int offset, HttpStatusCode expected)
    {
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now) with { Iat = Now.ToUnixTimeSeconds() + offset };

        var answer = await SendAsync(Request(token, proof.Sign()));

        Assert.Equal(expected, answer.Status);
    }

    [Fact]
    public async Task Verify_ConfiguredWindow_EdgesFollowTheSettings()
    {
        await using var host = await AppHost.StartAsync(o =>
        {
            o.Dpop.MaxAgeSeconds = 10;
            o.Dpop.FutureSkewSeconds = 0;
        });
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var now = host.Time.GetUtcNow();
        var token = DpopTokens.Bound(now);
        var url = new Uri(host.Client.BaseAddress!, "/verify").ToString();

        async Task<HttpStatusCode> StatusAsync(int offset)
        {
            using var response = await host.Client.SendAsync(Request(token, (DpopTokens.Proof(token, "GET", url, now) with { Iat = now.ToUnixTimeSeconds() + offset }).Sign()));
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(-10));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(-11));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(0));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(1));
    }

    [Fact]
    public async Task Verify_SameProofInConcurrentRequests_ExactlyOne200()
    {
        const int Requests = 16;
        var token = DpopTokens.Bound(Now);
        var proof = DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign();

        var answers = await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => SendAsync(Request(token, proof))));

        Assert.Equal(1, answers.Count(a => a.Status == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a => Assert.Equal("replayed", a.Error));
    }

    [Fact]
    public async Task Verify_DpopDisabled_DpopSchemeRefusedBoundBearerRefused()
    {
        await using var host = await AppHost.StartAsync(o => o.Dpop.Enabled = false);
        var now = host.Time.GetUtcNow();
        var token = DpopTokens.Bound(now);
        var proof = DpopTokens.Proof(token, "GET", new Uri(host.Client.BaseAddress!, "/verify").ToString(), now).Sign();

        using var dpop = await host.Client.SendAsync(Request(token, proof));
        using var bearer = await host.Client.SendAsync(Request(token, proof: null, scheme: "Bearer"));

        Assert.Equal(HttpStatusCode.Unauthorized, dpop.StatusCode);
        Assert.Contains("\"dpop_invalid\"", await dpop.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, bearer.StatusCode);
        Assert.Contains("\"dpop_required\"", await bearer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ProofOutcomes_CountedByMetric()
    {
        using var metrics = new MetricRecorder();
        var token = DpopTokens.Bound(Now);

        await SendAsync(Request(token, DpopTokens.Proof(token, "GET", DirectUrl(), Now).Sign()));
        await SendAsync(Request(token, DpopTokens.Proof(token, "GET", DirectUrl("/elsewhere"), Now).Sign()));

        Assert.True(metrics.Total("edgeverifier.dpop.proofs:ok") >= 1);
        Assert.True(metrics.Total("edgeverifier.dpop.proofs:htu") >= 1);
    }

    [Fact]
    public async Task Time_Get_ReturnsTheServerClock()
    {
        using var response = await _host.Client.GetAsync("/v1/time");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(Now.ToUnixTimeSeconds(), body.RootElement.GetProperty("now").GetInt64());

        _host.Time.Advance(TimeSpan.FromSeconds(90));
        using var later = JsonDocument.Parse(await _host.Client.GetStringAsync("/v1/time"));
        Assert.Equal(Now.ToUnixTimeSeconds(), later.RootElement.GetProperty("now").GetInt64());
    }
}
