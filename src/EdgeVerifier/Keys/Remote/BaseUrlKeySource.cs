using System.Collections.Concurrent;
using EdgeVerifier.Diagnostics;
using ZiggyCreatures.Caching.Fusion;

namespace EdgeVerifier.Keys.Remote;

/// <summary>
/// One key per URL: <c>{base}/{kid}.jwk</c>. A 404 means "no such kid" and is remembered for
/// <see cref="RemoteKeyOptions.NegativeTtlSeconds"/>. Fetches for kids not known to be good
/// draw from a per-source token bucket (<see cref="RemoteKeyOptions.UnknownKidFetchesPerMinute"/>):
/// when it is empty such a kid is refused as unknown without asking the registry, so a flood
/// of random kids makes at most burst + rate × minutes upstream calls.
/// </summary>
public sealed class BaseUrlKeySource : RemoteKeySource
{
    /// <summary>Cap on remembered kids (good or unknown).</summary>
    public const int MaxSlots = 10_000;

    private readonly Uri _base;
    private readonly ConcurrentDictionary<string, DocSlot> _slots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DocSlot>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly object _budgetLock = new();
    private int _unknownKidTokens;
    private DateTimeOffset _lastReplenish;

    public BaseUrlKeySource(Uri baseUrl, IFusionCache cache, KeyFetcher fetcher, BreakerStates breakers, RemoteKeyOptions options, int minRsaBits, TimeProvider time, ILogger logger)
        : base("url:" + Normalise(baseUrl), cache, fetcher, breakers, options, minRsaBits, time, logger)
    {
        _base = Normalise(baseUrl);
        _bySpan = _slots.GetAlternateLookup<ReadOnlySpan<char>>();
        // A token bucket on the injected clock (TokenBucketRateLimiter measures time on the system clock
        // even when replenished by hand, so it cannot follow a TimeProvider).
        _unknownKidTokens = options.UnknownKidFetchesPerMinute;
        _lastReplenish = time.GetUtcNow();
    }

    /// <summary>The base with exactly one trailing slash: <c>https://h/keys</c>, <c>https://h/keys/</c> and <c>https://h/keys//</c> are one source.</summary>
    public static Uri Normalise(Uri baseUrl)
    {
        var builder = new UriBuilder(baseUrl) { Query = string.Empty, Fragment = string.Empty };
        builder.Path = builder.Path.TrimEnd('/') + "/";
        return builder.Uri;
    }

    /// <summary>The URL of a kid's key. The kid is already restricted to <c>[A-Za-z0-9_-]</c>, so it needs no escaping.</summary>
    public Uri UrlFor(string kid) => new(_base, kid + ".jwk");

    public override SourceReadiness Readiness
    {
        get
        {
            // Ready even with the circuit open: cached keys keep serving (fail-safe), and taking every
            // node out of the load balancer during a registry outage would turn it into our outage.
            return new(true, $"{Name}: {_slots.Count} kid(s) known, circuit {BreakerState(_base)}");
        }
    }

    public override KeyLookup TryGetCached(ReadOnlySpan<char> kid)
    {
        if (!_bySpan.TryGetValue(kid, out var slot))
        {
            return KeyLookup.Miss;
        }

        var freshness = Evaluate(slot, out var doc);
        switch (freshness)
        {
            case Freshness.Fresh:
                return Answer(doc!);
            case Freshness.ServeAndRefresh:
                RefreshInBackground(slot);
                if (doc!.Missing && Time.GetUtcNow() >= doc.FreshUntil)
                {
                    return KeyLookup.Miss; // a remembered 404 past its life is asked again (rate-limited)
                }

                if (!doc.Missing)
                {
                    EdgeMetrics.StaleServed(Time.GetUtcNow() >= doc.FreshUntil);
                }

                return Answer(doc);
            default:
                return doc is null && slot.LastAttemptFailed && CoolingDown(slot) ? KeyLookup.Unavailable : KeyLookup.Miss;
        }
    }

    public override async ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken)
    {
        var cached = TryGetCached(kid);
        if (cached.Status != KeyLookupStatus.Miss)
        {
            return cached;
        }

        _slots.TryGetValue(kid, out var slot);
        var knownGood = slot?.Doc is { Missing: false };

        // The budget counts upstream fetches, not requests: joining a fetch already in flight for this kid is free.
        var joining = slot is not null && (slot.Pending is not null || Volatile.Read(ref slot.FactoryRunning) == 1);
        if (!knownGood && !joining && !TryTakeUnknownKidBudget())
        {
            Log.UnknownKidBudgetSpent(Logger, Name);
            return KeyLookup.NotFound;
        }

        if (slot is null)
        {
            if (_slots.Count >= MaxSlots && !EvictForgettable())
            {
                return KeyLookup.NotFound;
            }

            slot = _slots.GetOrAdd(kid, k => new DocSlot("ev:url:" + UrlFor(k).AbsoluteUri, UrlFor(k)));
        }

        var freshness = Evaluate(slot, out var stale);
        await AwaitRefreshAsync(slot, stale, haveStale: freshness == Freshness.Revalidate, force: false, cancellationToken).ConfigureAwait(false);
        freshness = Evaluate(slot, out var doc);
        if (freshness == Freshness.None)
        {
            return KeyLookup.Unavailable;
        }

        if (freshness == Freshness.Revalidate && !doc!.Missing)
        {
            EdgeMetrics.StaleServed(true);
        }

        return doc!.Missing && Time.GetUtcNow() >= doc.FreshUntil && slot.LastAttemptFailed ? KeyLookup.Unavailable : Answer(doc);
    }

    /// <summary>
    /// At the cap, forgets kids that hold no key: a 404 past its negative TTL, or a failed first fetch past its
    /// cooldown. Without this a flood of random kids would fill the table once and refuse every new kid after it
    /// (a rotated-in key included) for the life of the process. Runs only when the table is full, for kids that
    /// already drew from the unknown-kid budget, so at most that many sweeps a minute.
    /// </summary>
    private bool EvictForgettable()
    {
        var now = Time.GetUtcNow();
        foreach (var (kid, slot) in _slots)
        {
            var doc = slot.Doc;
            var forgettable = doc is null ? !CoolingDown(slot) : doc.Missing && now >= doc.FreshUntil;
            if (forgettable && slot.Pending is null && Volatile.Read(ref slot.FactoryRunning) == 0)
            {
                _slots.TryRemove(new KeyValuePair<string, DocSlot>(kid, slot));
            }
        }

        return _slots.Count < MaxSlots;
    }

    private static KeyLookup Answer(KeyDocument doc) =>
        doc.Missing || doc.Single is null ? KeyLookup.NotFound : KeyLookup.Found(doc.Single);

    private bool TryTakeUnknownKidBudget()
    {
        var now = Time.GetUtcNow();
        lock (_budgetLock)
        {
            var minutes = (now - _lastReplenish).Ticks / TimeSpan.TicksPerMinute;
            if (minutes > 0)
            {
                var limit = Options.UnknownKidFetchesPerMinute;
                _unknownKidTokens = (int)Math.Min(limit, _unknownKidTokens + (minutes * limit));
                _lastReplenish += TimeSpan.FromMinutes(minutes);
            }

            if (_unknownKidTokens == 0)
            {
                return false;
            }

            _unknownKidTokens--;
            return true;
        }
    }

    private protected override bool NotFoundIsAnswer => true;

    private protected override KeyDocument? Interpret(DocSlot slot, FetchResult result, DateTimeOffset now, out string? error)
    {
        var kid = Path.GetFileNameWithoutExtension(slot.Url.AbsolutePath);
        var parsed = JwkReader.Parse(result.Body, MinRsaBits);
        if (!parsed.Ok)
        {
            error = parsed.Error;
            return null;
        }

        VerificationKey? key = null;
        foreach (var candidate in parsed.Keys!)
        {
            if (candidate.Kid is null ? parsed.Keys.Length == 1 : string.Equals(candidate.Kid, kid, StringComparison.Ordinal))
            {
                key = candidate;
            }
        }

        if (key is not null && key.Family == Tokens.KeyFamily.Symmetric)
        {
            error = "a symmetric (oct) key: shared secrets are never accepted from a registry";
            return null;
        }

        if (key is null)
        {
            error = parsed.Keys.Length == 1 ? $"the key's kid '{parsed.Keys[0].Kid}' differs from the requested '{kid}'" : $"no key with kid '{kid}' in the answer";
            return null;
        }

        error = null;
        Log.KeyLoaded(Logger, kid, Name);
        return new KeyDocument(new(StringComparer.Ordinal) { [kid] = key }, key, missing: false, now, result.FreshFor, result.StaleWhileRevalidate, result.ETag);
    }
}
