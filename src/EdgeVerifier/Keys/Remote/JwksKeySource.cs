using System.Text.Json;
using EdgeVerifier.Diagnostics;
using ZiggyCreatures.Caching.Fusion;

namespace EdgeVerifier.Keys.Remote;

/// <summary>
/// A JWK Set at one URL, given directly or found through OIDC discovery
/// (<c>{issuer}/.well-known/openid-configuration</c> → <c>jwks_uri</c>). An unknown kid triggers
/// at most one re-fetch of the set per <see cref="RemoteKeyOptions.UnknownKidCooldownSeconds"/>,
/// whatever the number of distinct kids. A key dropped from the set is refused once the set
/// is re-fetched: within the set's freshness (clamped to <see cref="RemoteKeyOptions.MaxTtlSeconds"/>).
/// </summary>
public sealed class JwksKeySource : RemoteKeySource
{
    private readonly DocSlot _slot;
    private readonly bool _discovery;

    private JwksKeySource(string name, Uri jwksOrDiscovery, bool discovery, IFusionCache cache, KeyFetcher fetcher, BreakerStates breakers, RemoteKeyOptions options, int minRsaBits, TimeProvider time, ILogger logger)
        : base(name, cache, fetcher, breakers, options, minRsaBits, time, logger)
    {
        _discovery = discovery;
        _slot = new DocSlot("ev:jwks:" + jwksOrDiscovery.AbsoluteUri, jwksOrDiscovery);
    }

    public static JwksKeySource ForJwks(Uri jwks, IFusionCache cache, KeyFetcher fetcher, BreakerStates breakers, RemoteKeyOptions options, int minRsaBits, TimeProvider time, ILogger logger) =>
        Start(new JwksKeySource("jwks:" + jwks.AbsoluteUri, jwks, false, cache, fetcher, breakers, options, minRsaBits, time, logger));

    /// <summary>OIDC discovery: <paramref name="issuer"/> is the issuer URL or the discovery document's URL.</summary>
    public static JwksKeySource ForOidc(Uri issuer, IFusionCache cache, KeyFetcher fetcher, BreakerStates breakers, RemoteKeyOptions options, int minRsaBits, TimeProvider time, ILogger logger) =>
        Start(new JwksKeySource("oidc:" + issuer.AbsoluteUri, DiscoveryUrl(issuer), true, cache, fetcher, breakers, options, minRsaBits, time, logger));

    /// <summary>OIDC: the set lives at the discovery document's <c>jwks_uri</c> (cached, fail-safe like the set).</summary>
    private protected override async ValueTask<Uri?> FetchUrlAsync(DocSlot slot, CancellationToken cancellationToken)
    {
        if (!_discovery)
        {
            return slot.Url;
        }

        var entry = new FusionCacheEntryOptions
        {
            Duration = TimeSpan.FromSeconds(Options.DefaultTtlSeconds),
            IsFailSafeEnabled = true,
            FailSafeMaxDuration = TimeSpan.FromSeconds(Options.MaxStaleSeconds + Options.MaxTtlSeconds),
            FailSafeThrottleDuration = TimeSpan.FromSeconds(Options.FailureCooldownSeconds),
        };
        try
        {
            var text = await Cache.GetOrSetAsync<string?>("ev:oidc:" + slot.Url.AbsoluteUri, async (context, token) =>
            {
                var result = await Fetcher.GetAsync(slot.Url, null, token).ConfigureAwait(false);
                string? error = null;
                var jwksUri = result.Status == FetchStatus.Ok ? ReadJwksUri(result.Body!, Options.AllowHttp, out error) : null;
                if (jwksUri is null)
                {
                    Log.DiscoveryFailed(Logger, Name, result.Error ?? error ?? $"unexpected {result.Status}");
                    return context.Fail("discovery failed");
                }

                context.Options.Duration = result.FreshFor;
                return jwksUri.AbsoluteUri;
            }, default, entry, null, cancellationToken).ConfigureAwait(false);
            return text is null ? null : new Uri(text);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The discovery document's <c>jwks_uri</c>, when it is an absolute https URL (http only for loopback or when allowed).</summary>
    public static Uri? ReadJwksUri(byte[] discovery, bool allowHttp, out string? error)
    {
        try
        {
            using var document = JsonDocument.Parse(discovery);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("jwks_uri", out var value)
                || value.ValueKind != JsonValueKind.String
                || !Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri))
            {
                error = "discovery document has no absolute jwks_uri";
                return null;
            }

            if (!RemoteUrls.IsAllowed(uri, allowHttp))
            {
                error = $"jwks_uri '{uri}' is not https";
                return null;
            }

            error = null;
            return uri;
        }
        catch (JsonException e)
        {
            error = "discovery document is not JSON: " + e.Message;
            return null;
        }
    }

    public static Uri DiscoveryUrl(Uri issuer)
    {
        const string WellKnown = ".well-known/openid-configuration";
        return issuer.AbsolutePath.EndsWith(WellKnown, StringComparison.Ordinal)
            ? issuer
            : new Uri(issuer.AbsoluteUri.TrimEnd('/') + "/" + WellKnown);
    }

    private static JwksKeySource Start(JwksKeySource source)
    {
        // Fetch at start-up, in the background: /readyz says when the set is in.
        source.RefreshInBackground(source._slot);
        return source;
    }

    public override SourceReadiness Readiness
    {
        get
        {
            var freshness = Evaluate(_slot, out var doc);
            var breaker = BreakerState(_slot.Url);
            if (doc is null || freshness == Freshness.None)
            {
                return new(false, $"{Name}: no usable key set yet{(_slot.LastAttemptFailed ? " (last fetch failed)" : "")}, circuit {breaker}");
            }

            var age = (Time.GetUtcNow() - doc.FetchedAt).TotalSeconds;
            return new(true, $"{Name}: {doc.Keys.Count} key(s), fetched {age:0} s ago, fresh for {doc.FreshFor.TotalSeconds:0} s{(Time.GetUtcNow() >= doc.FreshUntil ? " (stale)" : "")}, circuit {breaker}");
        }
    }

    public override KeyLookup TryGetCached(ReadOnlySpan<char> kid)
    {
        var freshness = Evaluate(_slot, out var doc);
        switch (freshness)
        {
            case Freshness.Fresh:
                return Answer(doc!, kid);
            case Freshness.ServeAndRefresh:
                RefreshInBackground(_slot);
                if (Time.GetUtcNow() >= doc!.FreshUntil)
                {
                    EdgeMetrics.StaleServed(true);
                }

                return Answer(doc, kid);
            default:
                return doc is null && _slot.LastAttemptFailed && CoolingDown(_slot) ? KeyLookup.Unavailable : KeyLookup.Miss;
        }
    }

    private KeyLookup Answer(KeyDocument doc, ReadOnlySpan<char> kid)
    {
        if (doc.TryGet(kid, out var key))
        {
            return KeyLookup.Found(key);
        }

        // Unknown kid: the set may have rotated. Ask again only once per cooldown.
        var sinceFetch = Time.GetUtcNow() - doc.FetchedAt;
        if (sinceFetch < TimeSpan.FromSeconds(Options.UnknownKidCooldownSeconds))
        {
            return KeyLookup.NotFound; // a recent set is authoritative
        }

        // The set is older and the registry just failed: whether the kid exists is unknown (503), not "no".
        return CoolingDown(_slot) ? (_slot.LastAttemptFailed ? KeyLookup.Unavailable : KeyLookup.NotFound) : KeyLookup.Miss;
    }

    public override async ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken)
    {
        var cached = TryGetCached(kid);
        if (cached.Status != KeyLookupStatus.Miss)
        {
            return cached;
        }

        var freshness = Evaluate(_slot, out var before);
        // A kid the cached set lacks: only the registry's answer can tell, so wait for it (no stale fallback).
        var unknownKid = before is not null && !before.TryGet(kid, out _);
        var force = unknownKid || freshness is Freshness.Fresh or Freshness.ServeAndRefresh;
        await AwaitRefreshAsync(_slot, before, haveStale: freshness == Freshness.Revalidate && !unknownKid, force, cancellationToken).ConfigureAwait(false);
        freshness = Evaluate(_slot, out var doc);
        if (doc is null || freshness == Freshness.None)
        {
            return KeyLookup.Unavailable;
        }

        if (doc.TryGet(kid, out var key))
        {
            return KeyLookup.Found(key);
        }

        // The set did not change hands (fetch failed) and never named this kid: we cannot say "unknown".
        return ReferenceEquals(doc, before) && _slot.LastAttemptFailed ? KeyLookup.Unavailable : KeyLookup.NotFound;
    }

    private protected override bool NotFoundIsAnswer => false;

    private protected override KeyDocument? Interpret(DocSlot slot, FetchResult result, DateTimeOffset now, out string? error)
    {
        var parsed = JwkReader.ParseSet(result.Body, MinRsaBits, out var skipped);
        foreach (var reason in skipped)
        {
            Log.JwksKeySkipped(Logger, Name, reason);
        }

        if (!parsed.Ok)
        {
            error = parsed.Error;
            return null;
        }

        var byKid = new Dictionary<string, VerificationKey>(StringComparer.Ordinal);
        foreach (var key in parsed.Keys!)
        {
            if (key.Family == Tokens.KeyFamily.Symmetric)
            {
                Log.JwksKeySkipped(Logger, Name, $"key '{key.Kid}': a symmetric (oct) key: shared secrets are never accepted from a registry");
                continue;
            }

            if (key.Kid is null)
            {
                Log.JwksKeySkipped(Logger, Name, "a key without kid");
                continue;
            }

            if (!byKid.TryAdd(key.Kid, key))
            {
                error = $"kid '{key.Kid}' appears twice in the set";
                return null;
            }
        }

        error = null;
        Log.KeySetLoaded(Logger, Name, byKid.Count);
        return new KeyDocument(byKid, null, missing: false, now, result.FreshFor, result.StaleWhileRevalidate, result.ETag);
    }
}
