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

    private static readonly Counter<long> TokenCacheLookups = Meter.CreateCounter<long>("edgeverifier.token_cache.lookups", "{lookup}", "Token caches: verified-token hits, misses that led to a full verification, and refusals answered from the refused-token cache");

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("result", "miss");
    private static readonly KeyValuePair<string, object?> RefusedHit = new("result", "refused_hit");

    public static void TokenCache(bool hit)
    {
        if (TokenCacheLookups.Enabled)
        {
            TokenCacheLookups.Add(1, hit ? Hit : MissTag);
        }
    }

    /// <summary>A refusal answered from the refused-token cache (no signature check).</summary>
    public static void TokenCacheRefusal()
    {
        if (TokenCacheLookups.Enabled)
        {
            TokenCacheLookups.Add(1, RefusedHit);
        }
    }

    private static readonly Counter<long> Verifications = Meter.CreateCounter<long>("edgeverifier.verifications", "{request}", "Forward-auth (/verify) answers by outcome: ok, or the stable error code");

    private static readonly Histogram<double> VerifyDuration = Meter.CreateHistogram<double>("edgeverifier.verify.duration", "s", "Time to answer a /verify request, by HTTP status");

    // One pre-built tag per outcome, so counting allocates nothing.
    private static readonly KeyValuePair<string, object?>[] OutcomeTags = BuildOutcomeTags();

    private static readonly KeyValuePair<string, object?> Status200 = new("status", "200");
    private static readonly KeyValuePair<string, object?> Status401 = new("status", "401");
    private static readonly KeyValuePair<string, object?> Status403 = new("status", "403");
    private static readonly KeyValuePair<string, object?> Status503 = new("status", "503");
    private static readonly KeyValuePair<string, object?> StatusOther = new("status", "other");

    private static KeyValuePair<string, object?>[] BuildOutcomeTags()
    {
        var tags = new KeyValuePair<string, object?>[Tokens.VerifyErrors.Count];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = new("outcome", i == 0 ? "ok" : Tokens.VerifyErrors.Code((Tokens.VerifyError)i));
        }

        return tags;
    }

    /// <summary>Counts one answer: <see cref="Tokens.VerifyError.None"/> for a success.</summary>
    public static void Verification(Tokens.VerifyError outcome)
    {
        if (Verifications.Enabled)
        {
            Verifications.Add(1, OutcomeTags[(int)outcome]);
        }
    }

    /// <summary>Records how long a /verify answer took.</summary>
    public static void VerifyTime(TimeSpan elapsed, int status)
    {
        if (VerifyDuration.Enabled)
        {
            VerifyDuration.Record(elapsed.TotalSeconds, status switch
            {
                200 => Status200,
                401 => Status401,
                403 => Status403,
                503 => Status503,
                _ => StatusOther,
            });
        }
    }

    private static readonly Counter<long> KeyLookups = Meter.CreateCounter<long>("edgeverifier.key.lookups", "{lookup}", "Key cache lookups on the request path: hit, miss (loaded or fetched), not_found, unavailable");

    private static readonly KeyValuePair<string, object?>[] LookupTags =
    [
        new("result", "hit"),
        new("result", "not_found"),
        new("result", "unavailable"),
        new("result", "miss"),
    ];

    /// <summary>Counts a key lookup by its <see cref="Keys.KeyLookupStatus"/>.</summary>
    public static void KeyLookup(Keys.KeyLookupStatus status)
    {
        if (KeyLookups.Enabled)
        {
            KeyLookups.Add(1, LookupTags[(int)status]);
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
