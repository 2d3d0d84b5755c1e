namespace EdgeVerifier.Keys;

/// <summary>
/// One resolver over every configured source, asked in order: the first that has the key wins;
/// a kid is unknown only when every source says so.
/// </summary>
public sealed class KeyResolver : IDisposable
{
    private readonly IKeySource[] _sources;
    private readonly IDisposable[] _owned;

    /// <param name="sources">Asked in order.</param>
    /// <param name="owned">Disposed with the resolver after the sources (HTTP clients, caches).</param>
    public KeyResolver(IEnumerable<IKeySource> sources, params IDisposable[] owned)
    {
        _sources = [.. sources];
        _owned = owned;
        if (_sources.Length == 0)
        {
            throw new ArgumentException("at least one key source is needed", nameof(sources));
        }
    }

    private readonly List<IDisposable> _alsoOwned = [];

    public IReadOnlyList<IKeySource> Sources => _sources;

    /// <summary>Ties more resources to this resolver's lifetime (the app's verification state).</summary>
    public void Own(params IDisposable[] resources) => _alsoOwned.AddRange(resources);

    public KeyLookup TryGetCached(ReadOnlySpan<char> kid)
    {
        var miss = false;
        var unavailable = false;
        foreach (var source in _sources)
        {
            var lookup = source.TryGetCached(kid);
            switch (lookup.Status)
            {
                case KeyLookupStatus.Found:
                    return lookup;
                case KeyLookupStatus.Miss:
                    miss = true;
                    break;
                case KeyLookupStatus.Unavailable:
                    unavailable = true;
                    break;
            }
        }

        return miss ? KeyLookup.Miss : unavailable ? KeyLookup.Unavailable : KeyLookup.NotFound;
    }

    public async ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken)
    {
        var unavailable = false;
        foreach (var source in _sources)
        {
            var lookup = await source.ResolveAsync(kid, cancellationToken).ConfigureAwait(false);
            if (lookup.Status == KeyLookupStatus.Found)
            {
                return lookup;
            }

            unavailable |= lookup.Status is KeyLookupStatus.Unavailable or KeyLookupStatus.Miss;
        }

        return unavailable ? KeyLookup.Unavailable : KeyLookup.NotFound;
    }

    /// <summary>The key for a token that names no kid, if exactly one source offers one.</summary>
    public KeyLookup GetDefault()
    {
        foreach (var source in _sources)
        {
            var lookup = source.GetDefault();
            if (lookup.Status == KeyLookupStatus.Found)
            {
                return lookup;
            }
        }

        return KeyLookup.NotFound;
    }

    /// <summary>
    /// Whether <paramref name="kid"/> (null: the default key) resolves, from what the sources hold,
    /// to exactly <paramref name="key"/>: how a cached answer checks that its key is unchanged.
    /// </summary>
    public bool StillResolvesTo(string? kid, VerificationKey key)
    {
        var lookup = kid is null ? GetDefault() : TryGetCached(kid);
        return lookup.Status == KeyLookupStatus.Found && ReferenceEquals(lookup.Key, key);
    }

    public void Dispose()
    {
        foreach (var owned in _alsoOwned)
        {
            owned.Dispose();
        }

        foreach (var source in _sources)
        {
            source.Dispose();
        }

        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
