using EdgeVerifier.Keys;

namespace EdgeVerifier.Tokens;

/// <summary>
/// Refusals that only the token's own text and its key decide, remembered by exact whole-token
/// text, so the same bad token sent again (a client retrying an expired token, a replayed forgery)
/// costs a dictionary lookup instead of a signature check. Only deterministic answers are kept: a
/// bad signature, a payload that does not decode, an alg the key does not permit, a wrong issuer
/// or audience, a missing required claim — all fixed for this token and this key instance — and
/// <c>exp</c> passed, which stays passed while the clock moves forward. Never a key-source failure,
/// an unknown kid (the kid may appear), or "not yet valid" (it may become valid).
/// A hit re-checks that the kid still resolves to the very key instance the refusal was made with
/// (a rotated or reloaded key verifies afresh) and that the clock has not gone back. Bounded
/// separately from <see cref="VerifiedTokenCache"/>, so a flood of distinct forgeries cannot evict
/// good tokens (<see cref="TokenTextMap{TEntry}"/>: at most <c>maxEntries</c>; when full, a tenth goes).
/// </summary>
public sealed class RefusedTokenCache
{
    private readonly TokenTextMap<Entry> _entries;

    public RefusedTokenCache(int maxEntries) => _entries = new TokenTextMap<Entry>(maxEntries);

    public int Count => _entries.Count;

    /// <summary>Whether a refusal with this code may be remembered (see the class remarks).</summary>
    public static bool Keeps(VerifyError error) => error is VerifyError.BadSignature or VerifyError.MalformedToken
        or VerifyError.KeyAlgMismatch or VerifyError.BadIssuer or VerifyError.BadAudience or VerifyError.MissingClaim
        or VerifyError.Expired;

    /// <summary>The earlier refusal of exactly this token, if its key is unchanged and the clock has not gone back.</summary>
    public bool TryGet(ReadOnlySpan<char> token, double now, KeyResolver keys, out VerifyResult refusal)
    {
        refusal = default;
        if (!_entries.TryGet(token, out var entry))
        {
            return false;
        }

        var lookup = entry.Kid is { } kid ? keys.TryGetCached(kid) : keys.GetDefault();
        if (now < entry.RefusedAt || lookup.Status != KeyLookupStatus.Found || !ReferenceEquals(lookup.Key, entry.Key))
        {
            _entries.Remove(token);
            return false;
        }

        refusal = VerifyResult.Fail(entry.Error, entry.Kid);
        return true;
    }

    /// <summary>Remembers a refusal <see cref="Keeps"/> allows; others are ignored.</summary>
    public void Add(ReadOnlySpan<char> token, VerifyError error, string? kid, VerificationKey key, double now)
    {
        if (Keeps(error))
        {
            _entries.Add(token, new Entry(error, kid, key, now), now);
        }
    }

    /// <summary>Drops every entry.</summary>
    public void Clear() => _entries.Clear();

    private sealed class Entry(VerifyError error, string? kid, VerificationKey key, double refusedAt)
    {
        public readonly VerifyError Error = error;
        public readonly string? Kid = kid;
        public readonly VerificationKey Key = key;
        public readonly double RefusedAt = refusedAt;
    }
}
