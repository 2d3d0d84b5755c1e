using System.Collections.Concurrent;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Introspection;

/// <summary>
/// Positive introspection answers by <see cref="TokenHash"/>, each with its own expiry on the
/// injected clock: min(<c>CacheTtlSeconds</c>, the token's <c>exp</c>). Negative answers and
/// failures are never stored (the caller does not offer them).
/// </summary>
/// <remarks>
/// A dictionary rather than FusionCache, on purpose: (1) expiry is per entry and must follow the
/// injected <see cref="TimeProvider"/> (FusionCache 2.9 reads the system clock, so it would need
/// a second expiry stamp anyway); (2) the one-call-per-token rule must also cover answers that are
/// not stored (<c>active:false</c>, failures), which FusionCache's factory lock ties to storing;
/// (3) a hit must not allocate, and a 32-byte struct key avoids building a string key per request.
/// What FusionCache would add — a distributed level shared by a fleet (DESIGN.md "Scale-out") —
/// is not built yet.
/// </remarks>
internal sealed class IntrospectionCache
{
    private readonly ConcurrentDictionary<TokenHash, Entry> _entries = new();
    private readonly TimeProvider _time;
    private readonly int _maxEntries;
    private long _nextSweepAt;

    public IntrospectionCache(TimeProvider time, int maxEntries)
    {
        _time = time;
        _maxEntries = maxEntries;
    }

    private sealed record Entry(VerifiedToken Token, long ExpiresAtMs);

    public int Count => _entries.Count;

    /// <summary>The cached answer, if one is held and still within its life on the injected clock.</summary>
    public bool TryGet(in TokenHash key, out VerifiedToken token)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (_time.GetUtcNow().ToUnixTimeMilliseconds() < entry.ExpiresAtMs)
            {
                token = entry.Token;
                return true;
            }

            _entries.TryRemove(new KeyValuePair<TokenHash, Entry>(key, entry));
        }

        token = null!;
        return false;
    }

    /// <summary>Stores <paramref name="token"/> until <paramref name="expiresAtMs"/> (unix ms); false when it is not stored.</summary>
    public bool Set(in TokenHash key, VerifiedToken token, long expiresAtMs)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (expiresAtMs <= now)
        {
            return false;
        }

        if (_entries.Count >= _maxEntries && !Sweep(now))
        {
            return false; // full of live answers: serve this one uncached rather than evict blindly
        }

        _entries[key] = new Entry(token, expiresAtMs);
        return true;
    }

    public void Clear() => _entries.Clear();

    /// <summary>Drops expired entries, at most once a second; true when there is room afterwards.</summary>
    private bool Sweep(long now)
    {
        var next = Volatile.Read(ref _nextSweepAt);
        if (now >= next && Interlocked.CompareExchange(ref _nextSweepAt, now + 1000, next) == next)
        {
            foreach (var (key, entry) in _entries)
            {
                if (entry.ExpiresAtMs <= now)
                {
                    _entries.TryRemove(new KeyValuePair<TokenHash, Entry>(key, entry));
                }
            }
        }

        return _entries.Count < _maxEntries;
    }
}
