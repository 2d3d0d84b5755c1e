using System.Diagnostics.Metrics;

namespace EdgeVerifier.Diagnostics;

/// <summary>
/// Instruments with stable names (meter <c>EdgeVerifier</c>). Static so hot paths pay one
/// enabled-check when nothing listens.
/// </summary>
public static class EdgeMetrics
{
    public const string MeterName = "EdgeVerifier";

    private static readonly Meter Meter = new(MeterName, "1.0");

    private static readonly Counter<long> KeyFetches = Meter.CreateCounter<long>("edgeverifier.key.fetches", "{fetch}", "Key registry fetches by result (ok, not_modified, not_found, failed)");

    private static readonly Counter<long> StaleServes = Meter.CreateCounter<long>("edgeverifier.key.stale_served", "{lookup}", "Key lookups answered from a document past its freshness (fail-safe or stale-while-revalidate)");

    private static readonly Counter<long> TokenCacheLookups = Meter.CreateCounter<long>("edgeverifier.token_cache.lookups", "{lookup}", "Verified-token cache: hits, and misses that led to a full verification");

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("result", "miss");

    public static void TokenCache(bool hit)
    {
        if (TokenCacheLookups.Enabled)
        {
            TokenCacheLookups.Add(1, hit ? Hit : MissTag);
        }
    }

    public static void KeyFetch(string result)
    {
        if (KeyFetches.Enabled)
        {
            KeyFetches.Add(1, new KeyValuePair<string, object?>("result", result));
        }
    }

    public static void StaleServed(bool stale)
    {
        if (stale && StaleServes.Enabled)
        {
            StaleServes.Add(1);
        }
    }

    private static readonly Counter<long> IntrospectionCalls = Meter.CreateCounter<long>("edgeverifier.introspection.requests", "{request}", "Calls to introspection endpoints by result (active, inactive, failed)");

    private static readonly Counter<long> IntrospectionLookups = Meter.CreateCounter<long>("edgeverifier.introspection.cache", "{lookup}", "Introspection cache lookups by result (hit, miss)");

    private static readonly Counter<long> RevocationRefreshes = Meter.CreateCounter<long>("edgeverifier.revocation.refreshes", "{refresh}", "Revocation list refresh attempts by result (ok, failed)");

    private static readonly Counter<long> RevocationStaleServes = Meter.CreateCounter<long>("edgeverifier.revocation.stale_served", "{request}", "Tokens served while the revocation list was stale under the fail-open policy");

    public static void Introspection(string result)
    {
        if (IntrospectionCalls.Enabled)
        {
            IntrospectionCalls.Add(1, new KeyValuePair<string, object?>("result", result));
        }
    }

    public static void IntrospectionCache(bool hit)
    {
        if (IntrospectionLookups.Enabled)
        {
            IntrospectionLookups.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));
        }
    }

    public static void RevocationRefresh(string result)
    {
        if (RevocationRefreshes.Enabled)
        {
            RevocationRefreshes.Add(1, new KeyValuePair<string, object?>("result", result));
        }
    }

    public static void RevocationStaleServed()
    {
        if (RevocationStaleServes.Enabled)
        {
            RevocationStaleServes.Add(1);
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Keys.Remote.BreakerStates, byte> Breakers = new();

    private static readonly ObservableGauge<int> BreakerGauge = Meter.CreateObservableGauge(
        "edgeverifier.key.breaker_state", Observe, "{state}", "Circuit state per key registry authority: 0 closed, 1 half-open, 2 open");

    /// <summary>Reports <paramref name="states"/> through the breaker gauge until the returned handle is disposed.</summary>
    public static IDisposable ObserveBreakers(Keys.Remote.BreakerStates states)
    {
        Breakers[states] = 0;
        return new Unregister(states);
    }

    private sealed class Unregister(Keys.Remote.BreakerStates states) : IDisposable
    {
        public void Dispose() => Breakers.TryRemove(states, out _);
    }

    private static IEnumerable<Measurement<int>> Observe()
    {
        foreach (var (states, _) in Breakers)
        {
            foreach (var (authority, state) in states.Snapshot())
            {
            var value = state switch
            {
                Keys.Remote.BreakerStates.Open => 2,
                Keys.Remote.BreakerStates.HalfOpen => 1,
                _ => 0,
            };
            yield return new Measurement<int>(value, new KeyValuePair<string, object?>("authority", authority));
            }
        }
    }
}
