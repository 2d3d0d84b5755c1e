namespace EdgeVerifier.Keys.Remote;

/// <summary>
/// What one fetch of a key URL gave, stamped on the injected clock. Immutable: a refresh
/// replaces it. Freshness is decided on <see cref="TimeProvider"/> time, not on the cache's
/// own clock, so tests can move time.
/// </summary>
public sealed class KeyDocument
{
    private readonly Dictionary<string, VerificationKey>.AlternateLookup<ReadOnlySpan<char>> _byKid;

    public KeyDocument(Dictionary<string, VerificationKey> keys, VerificationKey? single, bool missing, DateTimeOffset fetchedAt, TimeSpan freshFor, TimeSpan staleWhileRevalidate, string? etag)
    {
        Keys = keys;
        _byKid = keys.GetAlternateLookup<ReadOnlySpan<char>>();
        Single = single;
        Missing = missing;
        FetchedAt = fetchedAt;
        FreshFor = freshFor;
        StaleWhileRevalidate = staleWhileRevalidate;
        ETag = etag;
    }

    public static KeyDocument NotFound(DateTimeOffset now, TimeSpan freshFor) =>
        new(new(StringComparer.Ordinal), null, missing: true, now, freshFor, TimeSpan.Zero, null);

    /// <summary>Keys by kid (a JWKS), or the one key of a <c>{kid}.jwk</c> URL under its kid.</summary>
    public Dictionary<string, VerificationKey> Keys { get; }

    /// <summary>The key of a single-key document (base URL).</summary>
    public VerificationKey? Single { get; }

    /// <summary>The registry said there is no such key (404).</summary>
    public bool Missing { get; }

    public DateTimeOffset FetchedAt { get; }

    public TimeSpan FreshFor { get; }

    /// <summary>RFC 5861 window after expiry in which the document is served while it is revalidated.</summary>
    public TimeSpan StaleWhileRevalidate { get; }

    public string? ETag { get; }

    public DateTimeOffset FreshUntil => FetchedAt + FreshFor;

    public bool TryGet(ReadOnlySpan<char> kid, out VerificationKey key) => _byKid.TryGetValue(kid, out key!);

    /// <summary>The same keys, renewed by a 304 or a fresh identical answer.</summary>
    public KeyDocument Renewed(DateTimeOffset now, TimeSpan freshFor, TimeSpan staleWhileRevalidate, string? etag) =>
        new(Keys, Single, Missing, now, freshFor, staleWhileRevalidate, etag ?? ETag);
}
