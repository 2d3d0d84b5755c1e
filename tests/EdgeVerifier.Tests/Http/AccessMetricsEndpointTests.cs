using System.Net;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Http;

/// <summary>GET /metrics after introspection and revocation work: their counters are exposed by name.</summary>
public sealed class AccessMetricsEndpointTests
{
    [Fact]
    public async Task Metrics_AfterIntrospectionAndRevocation_ExposesTheirCounters()
    {
        await using var introspection = await IntrospectionServer.StartAsync();
        await using var registry = await KeyServer.StartAsync();
        introspection.Active("evt_m", "alice");
        registry.Set("/revoked.json", "{}");
        await using var host = await AccessHost.StartAsync(o =>
        {
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = introspection.Url }];
            o.Revocation.Url = registry.BaseAddress + "revoked.json";
        });
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(host.App.Revocation!.Attempts >= 1)));

        for (var i = 0; i < 2; i++)
        {
            using var response = await host.VerifyAsync("evt_m");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var metrics = await host.Client.GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_introspection_requests_total{", StringComparison.Ordinal) && l.Contains("result=\"active\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_introspection_cache_total{", StringComparison.Ordinal) && l.Contains("result=\"hit\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_introspection_cache_total{", StringComparison.Ordinal) && l.Contains("result=\"miss\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edgeverifier_revocation_refreshes_total{", StringComparison.Ordinal) && l.Contains("result=\"ok\"", StringComparison.Ordinal));
    }
}
