using EdgeVerifier.Diagnostics;
using ZiggyCreatures.Caching.Fusion;

namespace EdgeVerifier.Keys.Remote;

/// <summary>
/// What a remote source knows about one URL: the last good document and when the next
/// attempt may be made. The hot path reads it without locks or allocation.
/// </summary>
internal sealed class DocSlot(string cacheKey, Uri url)
{
    public readonly string CacheKey = cacheKey;
    public readonly Uri Url = url;
    public volatile KeyDocument? Doc;
    public long NextAttemptAt;      // unix ms on the injected clock; 0 = now
    public volatile bool LastAttemptFailed;
    public int FactoryRunning;
    public Task? Pending;
}

/// <summary>How usable a slot's document is right now.</summary>
internal enum Freshness : byte
{
    /// <summary>Nothing usable: fetch and wait.</summary>
    None,

    /// <summary>Fresh; no refresh needed yet.</summary>
    Fresh,

    /// <summary>Usable now; refresh in the background (eager threshold passed, or within stale-while-revalidate, or the registry is cooling down after a failure).</summary>
    ServeAndRefresh,

    /// <summary>Past freshness and stale-while-revalidate but within the fail-safe bound: ask the registry, wait at most the soft timeout, else serve it.</summary>
    Revalidate,
}

/// <summary>
/// Shared machinery of the remote sources (DESIGN.md step 5). Freshness, the fail-safe
/// bound and cooldowns are decided on the injected <see cref="TimeProvider"/>; FusionCache
/// runs each fetch (one factory per key, fail-safe fallback to the last good document,
/// soft and hard factory timeouts, ETag kept for conditional refresh). A failed fetch never
/// replaces a good document.
/// </summary>
public abstract class RemoteKeySource : IKeySource
{
    private readonly IFusionCache _cache;
    private readonly KeyFetcher _fetcher;
    private readonly BreakerStates _breakers;

    private protected RemoteKeySource(string name, IFusionCache cache, KeyFetcher fetcher, BreakerStates breakers, RemoteKeyOptions options, int minRsaBits, TimeProvider time, ILogger logger)
    {
        Name = name;
        MinRsaBits = minRsaBits;
        _cache = cache;
        _fetcher = fetcher;
        _breakers = breakers;
        Options = options;
        Time = time;
        Logger = logger;
    }

    public string Name { get; }

    protected RemoteKeyOptions Options { get; }

    protected int MinRsaBits { get; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    public abstract SourceReadiness Readiness { get; }

    public abstract KeyLookup TryGetCached(ReadOnlySpan<char> kid);

    public abstract ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken);

    public KeyLookup GetDefault() => KeyLookup.NotFound;

    /// <summary>Turns a 200 body into a document, or says why it is refused.</summary>
    private protected abstract KeyDocument? Interpret(DocSlot slot, FetchResult result, DateTimeOffset now, out string? error);

    /// <summary>Whether a 404 means "no such key" (base URL) or a failure (JWKS, discovery).</summary>
    private protected abstract bool NotFoundIsAnswer { get; }

    /// <summary>Where to fetch the slot's document (OIDC discovery overrides this).</summary>
    private protected virtual ValueTask<Uri?> FetchUrlAsync(DocSlot slot, CancellationToken cancellationToken) => new(slot.Url);

    private protected KeyFetcher Fetcher => _fetcher;

    private protected IFusionCache Cache => _cache;

    private protected string BreakerState(Uri url) => _breakers.Get(url.Authority);

    private protected Freshness Evaluate(DocSlot slot, out KeyDocument? doc)
    {
        doc = slot.Doc;
        if (doc is null)
        {
            return Freshness.None;
        }

        var now = Time.GetUtcNow();
        if (now < doc.FetchedAt + doc.FreshFor * Options.EagerRefreshThreshold)
        {
            return Freshness.Fresh;
        }

        // Checked before stale-while-revalidate: the registry's window must not stretch the configured bound.
        if (now - doc.FreshUntil > TimeSpan.FromSeconds(Options.MaxStaleSeconds))
        {
            return Freshness.None; // past the fail-safe bound: refused until the registry answers
        }

        if (now < doc.FreshUntil + doc.StaleWhileRevalidate)
        {
            return Freshness.ServeAndRefresh;
        }

        // The registry failed a moment ago: serve the stale document rather than ask again.
        return CoolingDown(slot) ? Freshness.ServeAndRefresh : Freshness.Revalidate;
    }

    private protected bool CoolingDown(DocSlot slot) =>
        Time.GetUtcNow().ToUnixTimeMilliseconds() < Volatile.Read(ref slot.NextAttemptAt);

    /// <summary>Starts a background refresh unless one is running or the slot is cooling down.</summary>
    private protected void RefreshInBackground(DocSlot slot)
    {
        if (slot.Pending is null && !CoolingDown(slot))
        {
            _ = RefreshShared(slot, force: false, slot.Doc);
        }
    }

    /// <summary>
    /// The one refresh in flight for <paramref name="slot"/>, started if needed. <paramref name="seen"/> is the
    /// document the caller judged: when another refresh replaced it (or failed, starting a cooldown) since,
    /// nothing new is started and the caller looks again.
    /// </summary>
    private protected Task RefreshShared(DocSlot slot, bool force, KeyDocument? seen)
    {
        var pending = Volatile.Read(ref slot.Pending);
        if (pending is not null)
        {
            return pending;
        }

        if (!ReferenceEquals(slot.Doc, seen) || CoolingDown(slot) || (!force && Evaluate(slot, out _) == Freshness.Fresh))
        {
            return Task.CompletedTask;
        }

        // Published before it runs: a refresh that finished at once could otherwise clear Pending before the
        // exchange below set it, leaving a completed task in the slot and no refresh ever again.
        var start = new Task<Task>(() => RefreshAsync(slot, force, seen));
        var refresh = start.Unwrap();
        var winner = Interlocked.CompareExchange(ref slot.Pending, refresh, null);
        if (winner is not null)
        {
            return winner;
        }

        start.Start(TaskScheduler.Default);
        return refresh;
    }

    /// <summary>Waits for a refresh: at most the soft timeout when a stale document can answer instead.</summary>
    private protected async Task AwaitRefreshAsync(DocSlot slot, KeyDocument? seen, bool haveStale, bool force, CancellationToken cancellationToken)
    {
        var refresh = RefreshShared(slot, force, seen);
        try
        {
            if (haveStale)
            {
                await refresh.WaitAsync(SoftTimeout, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            Log.ServingStaleSlowRegistry(Logger, Name, SoftTimeout.TotalMilliseconds);
        }
    }

    /// <summary>How long a request with a usable stale key waits for the registry. Network time: system clock.</summary>
    private protected TimeSpan SoftTimeout => TimeSpan.FromMilliseconds(Math.Min(100, Options.AttemptTimeoutMs));

    private async Task RefreshAsync(DocSlot slot, bool force, KeyDocument? seen)
    {
        await Task.Yield();
        try
        {
            if (Volatile.Read(ref slot.FactoryRunning) == 1)
            {
                return; // a fetch for this URL is still running (e.g. past a soft timeout)
            }

            if (slot.Doc is not null || force)
            {
                // The cache's own clock may still call the entry fresh: our clock decided it is not.
                await _cache.ExpireAsync(slot.CacheKey).ConfigureAwait(false);
            }

            var entry = new FusionCacheEntryOptions
            {
                Duration = TimeSpan.FromSeconds(Options.DefaultTtlSeconds),
                IsFailSafeEnabled = true,
                FailSafeMaxDuration = TimeSpan.FromSeconds(Options.MaxStaleSeconds + Options.MaxTtlSeconds),
                FailSafeThrottleDuration = TimeSpan.FromSeconds(Options.FailureCooldownSeconds),
                // A forced refresh asks for something the cached document lacks (an unknown kid): the caller
                // has no stale answer to fall back to, so it must see the registry's answer, not the old set.
                FactorySoftTimeout = force ? Timeout.InfiniteTimeSpan : SoftTimeout,
                FactoryHardTimeout = TimeSpan.FromMilliseconds(Options.TotalTimeoutMs + 1000),
                AllowTimedOutFactoryBackgroundCompletion = true,
            };
            await _cache.GetOrSetAsync<KeyDocument?>(slot.CacheKey, (context, token) => FactoryAsync(slot, seen, context, token), default, entry, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // No fallback existed (first fetch failed, or timed out hard): the slot says so.
            // A factory failure carries the real reason (non-JSON, kid mismatch, HTTP 500...); log it, not just the type.
            Log.KeyRefreshFailed(Logger, Name, e is FusionCacheFactoryException ? e.Message : e.GetType().Name + ": " + e.Message);
        }
        finally
        {
            Volatile.Write(ref slot.Pending, null);
        }
    }

    private async Task<KeyDocument?> FactoryAsync(DocSlot slot, KeyDocument? seen, FusionCacheFactoryExecutionContext<KeyDocument?> context, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref slot.FactoryRunning, 1) == 1)
        {
            return context.Fail("a fetch for this URL is already running");
        }

        try
        {
            var current = slot.Doc;
            if (current is not null && !ReferenceEquals(current, seen))
            {
                // Another fetch answered since this refresh was asked for (it outlived a soft timeout): no new call.
                context.Options.Duration = current.FreshFor;
                return context.Modified(current, current.ETag, null);
            }

            var url = await FetchUrlAsync(slot, cancellationToken).ConfigureAwait(false);
            var result = url is null
                ? FetchResult.Fail("the key set's location is unknown (discovery failed)")
                : await _fetcher.GetAsync(url, current?.ETag, cancellationToken).ConfigureAwait(false);
            var now = Time.GetUtcNow();
            KeyDocument? doc;
            string? error = null;
            switch (result.Status)
            {
                case FetchStatus.Ok:
                    doc = Interpret(slot, result, now, out error);
                    break;
                case FetchStatus.NotModified when current is not null:
                    doc = current.Renewed(now, result.FreshFor, result.StaleWhileRevalidate, result.ETag);
                    break;
                case FetchStatus.NotModified:
                    doc = null;
                    error = "304 Not Modified without a cached copy";
                    break;
                case FetchStatus.NotFound when NotFoundIsAnswer:
                    doc = KeyDocument.NotFound(now, TimeSpan.FromSeconds(Options.NegativeTtlSeconds));
                    break;
                case FetchStatus.NotFound:
                    doc = null;
                    error = "HTTP 404";
                    break;
                default:
                    doc = null;
                    error = result.Error;
                    break;
            }

            EdgeMetrics.KeyFetch(doc is null ? "failed" : result.Status == FetchStatus.NotModified ? "not_modified" : result.Status == FetchStatus.NotFound ? "not_found" : "ok");
            if (doc is null)
            {
                Volatile.Write(ref slot.NextAttemptAt, now.ToUnixTimeMilliseconds() + (Options.FailureCooldownSeconds * 1000L));
                slot.LastAttemptFailed = true;
                if (current is not null && !current.Missing)
                {
                    Log.ServingStale(Logger, Name, (now - current.FetchedAt).TotalSeconds, error ?? "unknown");
                }

                return context.Fail(error ?? "fetch failed");
            }

            slot.Doc = doc;
            slot.LastAttemptFailed = false;
            Volatile.Write(ref slot.NextAttemptAt, 0);
            context.Options.Duration = doc.FreshFor;
            return context.Modified(doc, doc.ETag, null);
        }
        finally
        {
            Volatile.Write(ref slot.FactoryRunning, 0);
        }
    }

    public virtual void Dispose()
    {
    }
}
