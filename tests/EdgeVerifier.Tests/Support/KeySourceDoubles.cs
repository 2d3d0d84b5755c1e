using System.Collections.Concurrent;
using EdgeVerifier.Keys;

namespace EdgeVerifier.Tests.Support;

/// <summary>A key source that gives set answers: the way to make a source fail, or publish a key, on demand.</summary>
public sealed class StubKeySource : IKeySource
{
    public StubKeySource(KeyLookup cached, KeyLookup? resolved = null, KeyLookup? defaultKey = null)
    {
        Cached = cached;
        Resolved = resolved ?? cached;
        Default = defaultKey ?? KeyLookup.NotFound;
    }

    public KeyLookup Cached { get; set; }

    public KeyLookup Resolved { get; set; }

    public KeyLookup Default { get; set; }

    public string Name => "stub";

    public SourceReadiness Readiness => new(true, Name);

    public KeyLookup TryGetCached(ReadOnlySpan<char> kid) => Cached;

    public ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken) => new(Resolved);

    public KeyLookup GetDefault() => Default;

    public void Dispose()
    {
    }
}

/// <summary>Wraps a source and records every question asked of it, to prove a lookup never happened.</summary>
public sealed class CountingKeySource(IKeySource inner) : IKeySource
{
    private int _cached;
    private int _resolved;
    private int _default;

    public int TryGetCachedCalls => Volatile.Read(ref _cached);

    public int ResolveCalls => Volatile.Read(ref _resolved);

    public int GetDefaultCalls => Volatile.Read(ref _default);

    /// <summary>Lookups by kid (cached or resolved): what could touch the file system.</summary>
    public int KidLookups => TryGetCachedCalls + ResolveCalls;

    public ConcurrentQueue<string> Kids { get; } = new();

    public string Name => inner.Name;

    public SourceReadiness Readiness => inner.Readiness;

    public KeyLookup TryGetCached(ReadOnlySpan<char> kid)
    {
        Interlocked.Increment(ref _cached);
        Kids.Enqueue(kid.ToString());
        return inner.TryGetCached(kid);
    }

    public ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _resolved);
        Kids.Enqueue(kid);
        return inner.ResolveAsync(kid, cancellationToken);
    }

    public KeyLookup GetDefault()
    {
        Interlocked.Increment(ref _default);
        return inner.GetDefault();
    }

    public void Dispose() => inner.Dispose();
}
