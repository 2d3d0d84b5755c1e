using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using EdgeVerifier.Keys;

namespace EdgeVerifier.Tokens;

/// <summary>
/// Refusals that only the token's own text and its key decide, remembered by the SHA-256 of the
/// exact token text, so the same bad token sent again (a client retrying an expired token, a
/// replayed forgery) costs a hash and a lookup instead of a signature check. Only deterministic
/// answers are kept: a bad signature, a payload that does not decode, an alg the key does not
/// permit, a wrong issuer or audience, a missing required claim — all fixed for this token and this
/// key instance — and <c>exp</c> passed, which stays passed while the clock moves forward. Never a
/// key-source failure, an unknown kid (the kid may appear), or "not yet valid" (it may become valid).
/// A hit re-checks that the header's kid (or, without one, the default key) still resolves to the
/// very key instance the refusal was made with, and that the clock has not gone back.
/// Keyed by a digest, not the text: refusals need no credential, so an entry must not cost what a
/// token of up to <c>MaxTokenBytes</c> would (a collision could only ever refuse, and SHA-256 makes
/// one infeasible). Bounded separately from <see cref="VerifiedTokenCache"/>, so a flood of distinct
/// forgeries cannot evict good tokens (<see cref="TokenTextMap{TEntry}"/>: at most <c>maxEntries</c>,
/// about 200 bytes each).
/// </summary>
public sealed class RefusedTokenCache
{
    // 32 bytes of SHA-256 as base64url, no padding.
    private const int DigestChars = 43;

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
        Span<char> digest = stackalloc char[DigestChars];
        Digest(token, digest);
        if (!_entries.TryGet(digest, out var entry))
        {
            return false;
        }

        if (now < entry.RefusedAt || !keys.StillResolvesTo(entry.LookupKid, entry.Key))
        {
            _entries.Remove(digest, entry);
            return false;
        }

        refusal = VerifyResult.Fail(entry.Error, entry.Kid);
        return true;
    }

    /// <summary>Remembers a refusal <see cref="Keeps"/> allows; others are ignored.</summary>
    /// <param name="token">The token text.</param>
    /// <param name="error">The refusal.</param>
    /// <param name="kid">The kid reported with it.</param>
    /// <param name="lookupKid">The header's kid, resolved again on a hit; null for the default key.</param>
    /// <param name="key">The key instance that refused it.</param>
    /// <param name="now">Unix seconds.</param>
    public void Add(ReadOnlySpan<char> token, VerifyError error, string? kid, string? lookupKid, VerificationKey key, double now)
    {
        if (!Keeps(error))
        {
            return;
        }

        Span<char> digest = stackalloc char[DigestChars];
        Digest(token, digest);
        _entries.Add(digest, new Entry(error, kid, lookupKid, key, now), now);
    }

    /// <summary>Drops every entry.</summary>
    public void Clear() => _entries.Clear();

    // SHA-256 over the UTF-16 code units: an injective encoding of the exact text, no conversion.
    private static void Digest(ReadOnlySpan<char> token, Span<char> digest)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(token), hash);
        Base64Url.EncodeToChars(hash, digest);
    }

    private sealed class Entry(VerifyError error, string? kid, string? lookupKid, VerificationKey key, double refusedAt)
    {
        public readonly VerifyError Error = error;
        public readonly string? Kid = kid;
        public readonly string? LookupKid = lookupKid;
        public readonly VerificationKey Key = key;
        public readonly double RefusedAt = refusedAt;
    }
}
