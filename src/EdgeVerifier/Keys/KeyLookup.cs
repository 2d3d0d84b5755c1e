namespace EdgeVerifier.Keys;

/// <summary>The outcome of asking a key source for a kid.</summary>
public enum KeyLookupStatus : byte
{
    /// <summary>The key is known and returned.</summary>
    Found,

    /// <summary>The source answered that it has no such key.</summary>
    NotFound,

    /// <summary>The source cannot answer (I/O error, upstream down) and nothing cached can.</summary>
    Unavailable,

    /// <summary>Nothing cached: the caller must await <see cref="IKeySource.ResolveAsync"/>.</summary>
    Miss,
}

public readonly record struct KeyLookup(KeyLookupStatus Status, VerificationKey? Key)
{
    public static KeyLookup NotFound => new(KeyLookupStatus.NotFound, null);

    public static KeyLookup Unavailable => new(KeyLookupStatus.Unavailable, null);

    public static KeyLookup Miss => new(KeyLookupStatus.Miss, null);

    public static KeyLookup Found(VerificationKey key) => new(KeyLookupStatus.Found, key);
}

/// <summary>Whether a source is able to serve, for <c>/readyz</c>.</summary>
public readonly record struct SourceReadiness(bool Ready, string Detail);

/// <summary>
/// A place keys come from. <see cref="TryGetCached"/> never blocks and never allocates on a hit;
/// <see cref="ResolveAsync"/> does the (shared, one-in-flight) work for a miss.
/// </summary>
public interface IKeySource : IDisposable
{
    /// <summary>A short description for logs and <c>/readyz</c>, e.g. <c>dir:/etc/keys</c>.</summary>
    string Name { get; }

    KeyLookup TryGetCached(ReadOnlySpan<char> kid);

    ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken);

    /// <summary>The key for a token without a kid: only a source holding exactly one key has one.</summary>
    KeyLookup GetDefault();

    SourceReadiness Readiness { get; }
}
