using System.Net;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Http;

/// <summary>GET /metrics: Prometheus text exposition of the EdgeVerifier meter.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_AfterRemoteKeyFetch_ExposesFetchCounterAndBreakerState()
    {
        await using var server = await KeyServer.StartAsync();
        var key = Key("k-metrics");
        server.PutKey(key);
        await using var app = await RemoteAppHost.StartAsync(o => o.Keys = server.BaseAddress.AbsoluteUri + "keys/");

        using (var verified = await app.VerifyAsync(TestTokens.Sign(key, TestTokens.Payload(app.Time.GetUtcNow()))))
        {
            Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        }

        using var response = await app.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        Assert.Contains("edgeverifier_key_fetches_total{", text, StringComparison.Ordinal);
        Assert.Contains("result=\"ok\"", text, StringComparison.Ordinal);
        // Other tests' apps may report their own registries too (the meter is process-wide): find ours.
        var breaker = Array.Find(text.Split('\n'), line => line.StartsWith("edgeverifier_key_breaker_state{", StringComparison.Ordinal)
            && line.Contains($"authority=\"{server.BaseAddress.Authority}\"", StringComparison.Ordinal));
        Assert.NotNull(breaker);
        Assert.Equal("0", breaker.Split(' ')[1]); // "name{labels} value": 0 = closed
    }

    [Fact]
    public async Task Metrics_AfterVerifications_CountsOutcomesAndRecordsLatency()
    {
        await using var host = await AppHost.StartAsync();
        var good = TestTokens.Valid(SigningAlgorithm.ES256, host.Time.GetUtcNow());
        var forged = TestTokens.Sign(TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256"), TestTokens.Payload(host.Time.GetUtcNow()));
        foreach (var (token, expected) in new[] { (good, HttpStatusCode.OK), (good, HttpStatusCode.OK), (forged, HttpStatusCode.Unauthorized) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
            request.Headers.Authorization = new("Bearer", token);
            using var answer = await host.Client.SendAsync(request);
            Assert.Equal(expected, answer.StatusCode);
        }

        using var response = await host.Client.GetAsync("/metrics");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');

        Assert.Contains(lines, l => l.StartsWith("edgeverifier_verifications_total{", StringComparison.Ordinal) && l.Contains("outcome=\"ok\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_verifications_total{", StringComparison.Ordinal) && l.Contains("outcome=\"bad_signature\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_verify_duration_seconds_count{", StringComparison.Ordinal) && l.Contains("status=\"200\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_key_lookups_total{", StringComparison.Ordinal) && l.Contains("result=\"hit\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_verify_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("status=\"401\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_ExposesTheRuntimeMeter_GcAndMemory()
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.GetAsync("/metrics");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(lines, l => l.StartsWith("dotnet_gc_heap_total_allocated_bytes_total{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("dotnet_gc_collections_total{", StringComparison.Ordinal) && l.Contains("gc_heap_generation=\"gen0\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("dotnet_process_memory_working_set_bytes{", StringComparison.Ordinal));
    }
}
