using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Replay;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Replay;

/// <summary>
/// The ring behind the HTTP service: full (fail closed for proof-bearing requests, 503 with
/// Retry-After, <c>/readyz</c> 503), reclaimed after expiry, kept across an in-process restart,
/// and recreated by policy when the file is corrupt.
/// </summary>
public sealed class ReplayStoreTests : IDisposable
{
    private const int TinyCapacity = 1024;
    private const int FillLifetimeSeconds = 300;

    private static readonly DateTimeOffset Start = VerifierHarness.Start;

    private readonly TempDirectory _dir = new();

    private string RingPath => _dir.File("shared.ring");

    public void Dispose() => _dir.Dispose();

    /// <summary>Fills every slot of a 1,024-slot ring at <see cref="RingPath"/> with nonces live for five minutes from <see cref="Start"/>.</summary>
    private void FillRing()
    {
        using var ring = RingFile.OpenSeeded(RingPath, TinyCapacity, Start, keySeed: 21);
        var now = Start.ToUnixTimeSeconds();
        for (var i = 0; i < 300_000 && ring.CountLive(now) < TinyCapacity; i++)
        {
            ring.TryAdd(Encoding.UTF8.GetBytes("fill-" + i.ToString(CultureInfo.InvariantCulture)), now + FillLifetimeSeconds, now);
        }

        Assert.Equal(TinyCapacity, ring.CountLive(now));
    }

    private Task<AppHost> StartOnSharedRingAsync(bool oneTime = false, int capacity = TinyCapacity) => AppHost.StartAsync(o =>
    {
        o.Replay.Path = RingPath;
        o.Replay.Capacity = capacity;
        o.OneTimeTokens = oneTime;
    });

    private static HttpRequestMessage Request(string scheme, string token, string? proof = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {token}");
        if (proof is not null)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        return request;
    }

    private static string Url(AppHost host) => new Uri(host.Client.BaseAddress!, "/verify").ToString();

    private static async Task<(HttpStatusCode Status, string? Error, HttpResponseMessage Response)> SendAsync(AppHost host, HttpRequestMessage request)
    {
        var response = await host.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var error = body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.GetProperty("error").GetString();
        return (response.StatusCode, error, response);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Ring)> ReadyAsync(AppHost host)
    {
        using var response = await host.Client.GetAsync("/readyz");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var ring = body.RootElement.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString()!.StartsWith("replay:", StringComparison.Ordinal));
        return (response.StatusCode, ring.Clone());
    }

    [Fact]
    public async Task Ready_RingWithRoom_Returns200AndReportsTheRing()
    {
        await using var host = await StartOnSharedRingAsync();

        var (status, ring) = await ReadyAsync(host);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(ring.GetProperty("ready").GetBoolean());
        Assert.Equal("replay:" + Path.GetFullPath(RingPath), ring.GetProperty("name").GetString());
        Assert.Equal("0 of 1024 slots live", ring.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Verify_RingFull_DpopRefused503ReplayStoreFullAndReadyz503UntilReclaimed()
    {
        FillRing();
        await using var host = await StartOnSharedRingAsync();
        using var metrics = new MetricRecorder();
        var now = host.Time.GetUtcNow();
        var token = DpopTokens.Bound(now);

        var full = await SendAsync(host, Request("DPoP", token, DpopTokens.Proof(token, "GET", Url(host), now).Sign()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.Status);
        Assert.Equal("replay_store_full", full.Error);
        Assert.Equal("5", full.Response.Headers.GetValues("Retry-After").Single());
        Assert.False(full.Response.Headers.Contains("WWW-Authenticate"));
        Assert.True(metrics.Total("edgeverifier.replay.ring_full") >= 1);
        Assert.True(metrics.Total("edgeverifier.dpop.proofs:storefull") >= 1);

        var (readyStatus, ring) = await ReadyAsync(host);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
        Assert.False(ring.GetProperty("ready").GetBoolean());
        Assert.Equal("1024 of 1024 slots live; FULL: proof-bearing requests are refused", ring.GetProperty("detail").GetString());

        // A plain bearer token needs no ring: still served.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, Request("Bearer", TestTokens.Valid(SigningAlgorithm.ES256, now)))).Status);

        // The fill expires at +300 s and is reusable 5 s later; the ring takes proofs again.
        host.Time.Advance(TimeSpan.FromSeconds(FillLifetimeSeconds + NonceRing.ReuseGraceSeconds));
        now = host.Time.GetUtcNow();
        token = DpopTokens.Bound(now);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, Request("DPoP", token, DpopTokens.Proof(token, "GET", Url(host), now).Sign()))).Status);
        var (readyAgain, ringAgain) = await ReadyAsync(host);
        Assert.Equal(HttpStatusCode.OK, readyAgain);
        Assert.Equal("1 of 1024 slots live", ringAgain.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Verify_RingFullOneTimeToken_Returns503WithRetryAfter()
    {
        FillRing();
        await using var host = await StartOnSharedRingAsync(oneTime: true);
        var now = host.Time.GetUtcNow();
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(now, extra: "\"jti\":\"full-1\""));

        var answer = await SendAsync(host, Request("Bearer", token));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
        Assert.Equal("replay_store_full", answer.Error);
        Assert.True(answer.Response.Headers.Contains("Retry-After"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReadyAsync(host)).Status);

        // /readyz recovers ten seconds after the last refusal, once the fill has expired.
        host.Time.Advance(TimeSpan.FromSeconds(FillLifetimeSeconds));
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(host)).Status);
    }

    [Fact]
    public async Task Verify_ManyLiveOneTimeTokensThroughHttp_RingFillsThenFailsClosed()
    {
        // No pre-filling: distinct one-time tokens through /verify until the 1,024-slot ring refuses.
        await using var host = await StartOnSharedRingAsync(oneTime: true);
        var now = host.Time.GetUtcNow();
        var key = TestKeys.For(SigningAlgorithm.ES256);
        var served = 0;
        HttpStatusCode last = HttpStatusCode.OK;
        string? error = null;
        for (var i = 0; i < 2 * TinyCapacity && last == HttpStatusCode.OK; i++)
        {
            var answer = await SendAsync(host, Request("Bearer", TestTokens.Sign(key, TestTokens.Payload(now, extra: $"\"jti\":\"live-{i}\""))));
            last = answer.Status;
            error = answer.Error;
            served += answer.Status == HttpStatusCode.OK ? 1 : 0;
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, last);
        Assert.Equal("replay_store_full", error);
        Assert.InRange(served, TinyCapacity / 4, TinyCapacity);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReadyAsync(host)).Status);

        // Everything served is still refused as a replay, never re-admitted.
        var replay = await SendAsync(host, Request("Bearer", TestTokens.Sign(key, TestTokens.Payload(now, extra: "\"jti\":\"live-0\""))));
        Assert.Equal("replayed", replay.Error);
    }

    [Fact]
    public async Task Verify_AfterInProcessRestartOnTheSameRing_ReplaysRefused()
    {
        string token, proof, oneTime;
        await using (var first = await StartOnSharedRingAsync(oneTime: true, capacity: 4096))
        {
            var now = first.Time.GetUtcNow();
            token = DpopTokens.Bound(now, extra: "\"jti\":\"bound-once\"");
            proof = DpopTokens.Proof(token, "GET", Url(first), now).Sign();
            oneTime = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(now, extra: "\"jti\":\"restart-1\""));
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(first, Request("DPoP", token, proof))).Status);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(first, Request("Bearer", oneTime))).Status);
        }

        await using var second = await StartOnSharedRingAsync(oneTime: true, capacity: 4096);

        // The same port is not guaranteed: re-sign the proof's htu for the new address, same jti.
        var replayProof = DpopTokens.Proof(token, "GET", Url(second), second.Time.GetUtcNow()) with { Jti = Jws.DecodeText(proof.Split('.')[1]).Split('"')[3] };
        var replayed = await SendAsync(second, Request("DPoP", token, replayProof.Sign()));
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.Status);
        Assert.Equal("replayed", replayed.Error);
        Assert.Equal("replayed", (await SendAsync(second, Request("Bearer", oneTime))).Error);

        var (status, ring) = await ReadyAsync(second);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("3 of 4096", ring.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_CorruptRingFile_MovedAsideNewRingRefusesOlderProofs()
    {
        File.WriteAllBytes(RingPath, Encoding.ASCII.GetBytes("EVNONCE1 but not really a ring file"));
        var corrupt = File.ReadAllBytes(RingPath);

        await using var host = await StartOnSharedRingAsync(capacity: 4096);

        var aside = $"{Path.GetFullPath(RingPath)}.corrupt-{Start.ToUnixTimeSeconds()}";
        Assert.Equal(corrupt, File.ReadAllBytes(aside));
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(host)).Status);

        // The new ring began at Start: a proof issued a second earlier could have been used against the lost ring.
        host.Time.Advance(TimeSpan.FromSeconds(20));
        var now = host.Time.GetUtcNow();
        var token = DpopTokens.Bound(now);
        var early = DpopTokens.Proof(token, "GET", Url(host), now) with { Iat = Start.ToUnixTimeSeconds() - 1 };
        var onTime = DpopTokens.Proof(token, "GET", Url(host), now) with { Iat = Start.ToUnixTimeSeconds() };

        var refused = await SendAsync(host, Request("DPoP", token, early.Sign()));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("dpop_invalid", refused.Error);
        Assert.Contains("iat", refused.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, Request("DPoP", token, onTime.Sign()))).Status);
    }

    [Fact]
    public void Start_RingPathInAMissingDirectory_FailsNamingReplayPath()
    {
        var options = new EdgeVerifier.Configuration.VerifierOptions
        {
            Keys = _dir.Path,
            Issuers = [TestTokens.Issuer],
            Audiences = [TestTokens.Audience],
            Urls = "http://127.0.0.1:0",
        };
        options.Replay.Path = _dir.File("no/such/dir/ring");

        var app = EdgeVerifier.Hosting.VerifierApp.Create(options, null, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Start), out var error);

        Assert.Null(app);
        Assert.StartsWith("Replay:Path: ", error, StringComparison.Ordinal);
    }
}
