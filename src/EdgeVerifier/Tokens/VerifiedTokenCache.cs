using EdgeVerifier.Keys;

namespace EdgeVerifier.Tokens;

/// <summary>
/// DESIGN.md step 4: tokens that verified, by exact whole-token text (<see cref="TokenTextMap{TEntry}"/>).
/// A hit re-checks the time claims and that the header's kid (or, without one, the default key)
/// still resolves to the very key instance the token was verified with, so an entry dies with its key (file deleted or changed, key dropped
/// from a set), its <c>exp</c>, or — checked by the caller on every request — revocation.
/// Bounded: at most <c>maxEntries</c>; when full, expired entries go first, then arbitrary ones.
/// </summary>
public sealed class VerifiedTokenCache
{
    private readonly TokenTextMap<Entry> _entries;
    private readonly double _skew;

    public VerifiedTokenCache(int maxEntries, TimeSpan clockSkew)
    {
        _skew = clockSkew.TotalSeconds;
        var skew = _skew;
        _entries = new TokenTextMap<Entry>(maxEntries, (entry, now) => Expired(entry.Token, now, skew));
    }

    public int Count => _entries.Count;

    /// <summary>The earlier result for exactly this token, if it is still within its time claims and its key is unchanged.</summary>
    public bool TryGet(ReadOnlySpan<char> token, double now, KeyResolver keys, out VerifiedToken? verified)
    {
        verified = null;
        if (!_entries.TryGet(token, out var entry))
        {
            return false;
        }

        var cached = entry.Token;
        var timeOk = !Expired(cached, now, _skew) && !(double.IsFinite(cached.NotBefore) && now + _skew < cached.NotBefore);
        if (!timeOk || !keys.StillResolvesTo(entry.LookupKid, entry.Key))
        {
            // Expired, or the key changed or went: verify afresh (which gives the precise answer).
            _entries.Remove(token, entry);
            return false;
        }

        verified = cached;
        return true;
    }

    /// <param name="token">The token text.</param>
    /// <param name="verified">The result.</param>
    /// <param name="key">The key instance it verified with.</param>
    /// <param name="lookupKid">The header's kid, resolved again on a hit exactly as a fresh verification would; null for the default key.</param>
    /// <param name="now">Unix seconds.</param>
    public void Add(ReadOnlySpan<char> token, VerifiedToken verified, VerificationKey key, string? lookupKid, double now) =>
        _entries.Add(token, new Entry(verified, key, lookupKid), now);

    /// <summary>Past <c>exp</c> by more than the skew (NaN: no <c>exp</c>, never expires).</summary>
    private static bool Expired(VerifiedToken token, double now, double skew) =>
        double.IsFinite(token.ExpiresAt) && now >= token.ExpiresAt + skew;

    /// <summary>Drops every entry (e.g. when key material is reloaded wholesale).</summary>
    public void Clear() => _entries.Clear();

    private sealed class Entry(VerifiedToken token, VerificationKey key, string? lookupKid)
    {
        public readonly VerifiedToken Token = token;
        public readonly VerificationKey Key = key;
        public readonly string? LookupKid = lookupKid;
    }
}
