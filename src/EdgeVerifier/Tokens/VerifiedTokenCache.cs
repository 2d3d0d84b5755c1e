using System.Collections.Concurrent;
using EdgeVerifier.Keys;

namespace EdgeVerifier.Tokens;

/// <summary>
/// DESIGN.md step 4: tokens that verified, by exact whole-token text (never by a hash, so no
/// collision can alias two tokens; non-canonical base64url is refused earlier, so one token has
/// one text). A hit re-checks the time claims and that the kid still resolves to the very key
/// instance the token was verified with, so an entry dies with its key (file deleted or changed,
/// key dropped from a set), its <c>exp</c>, or — checked by the caller on every request —
/// revocation. Bounded: at most <c>maxEntries</c>; when full, expired entries go first, then
/// arbitrary ones.
/// </summary>
public sealed class VerifiedTokenCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly int _maxEntries;
    private readonly double _skew;
    private int _trimming;

    public VerifiedTokenCache(int maxEntries, TimeSpan clockSkew)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _maxEntries = maxEntries;
        _skew = clockSkew.TotalSeconds;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _entries.Count;

    /// <summary>The earlier result for exactly this token, if it is still within its time claims and its key is unchanged.</summary>
    public bool TryGet(ReadOnlySpan<char> token, double now, KeyResolver keys, out VerifiedToken? verified)
    {
        verified = null;
        if (!_bySpan.TryGetValue(token, out var entry))
        {
            return false;
        }

        var cached = entry.Token;
        var timeOk = !(double.IsFinite(cached.ExpiresAt) && now >= cached.ExpiresAt + _skew)
            && !(double.IsFinite(cached.NotBefore) && now + _skew < cached.NotBefore);
        var lookup = cached.Kid is { } kid ? keys.TryGetCached(kid) : keys.GetDefault();
        if (!timeOk || lookup.Status != KeyLookupStatus.Found || !ReferenceEquals(lookup.Key, entry.Key))
        {
            // Expired, or the key changed or went: verify afresh (which gives the precise answer).
            _bySpan.TryRemove(token, out _);
            return false;
        }

        verified = cached;
        return true;
    }

    public void Add(ReadOnlySpan<char> token, VerifiedToken verified, VerificationKey key, double now)
    {
        if (_entries.Count >= _maxEntries)
        {
            Trim(now);
            if (_entries.Count >= _maxEntries)
            {
                return; // another thread is trimming: skip caching this one rather than overshoot
            }
        }

        _entries[token.ToString()] = new Entry(verified, key);
    }

    /// <summary>Drops every entry (e.g. when key material is reloaded wholesale).</summary>
    public void Clear() => _entries.Clear();

    private void Trim(double now)
    {
        if (Interlocked.Exchange(ref _trimming, 1) != 0)
        {
            return;
        }

        try
        {
            foreach (var (token, entry) in _entries)
            {
                if (double.IsFinite(entry.Token.ExpiresAt) && now >= entry.Token.ExpiresAt + _skew)
                {
                    _entries.TryRemove(token, out _);
                }
            }

            // Still full: free a tenth, whichever entries come first.
            var target = _maxEntries - Math.Max(1, _maxEntries / 10);
            foreach (var (token, _) in _entries)
            {
                if (_entries.Count <= target)
                {
                    break;
                }

                _entries.TryRemove(token, out _);
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    private sealed class Entry(VerifiedToken token, VerificationKey key)
    {
        public readonly VerifiedToken Token = token;
        public readonly VerificationKey Key = key;
    }
}
