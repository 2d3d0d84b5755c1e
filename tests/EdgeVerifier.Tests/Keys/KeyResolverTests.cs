using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Keys;

/// <summary>One resolver over ordered sources: first found wins; unknown only when every source says so.</summary>
public sealed class KeyResolverTests
{
    private static VerificationKey Key(SigningAlgorithm alg) => JwkReader.FromJwk(TestKeys.For(alg).PublicJwk).Keys![0];

    [Fact]
    public void Constructor_NoSources_Throws()
    {
        Assert.Throws<ArgumentException>(() => new KeyResolver([]));
    }

    [Fact]
    public async Task ResolveAsync_FirstSourceWithTheKey_Wins()
    {
        var first = Key(SigningAlgorithm.ES256);
        var second = Key(SigningAlgorithm.ES384);
        var a = new CountingKeySource(new StubKeySource(KeyLookup.NotFound));
        var b = new CountingKeySource(new StubKeySource(KeyLookup.Found(first)));
        var c = new CountingKeySource(new StubKeySource(KeyLookup.Found(second)));
        using var resolver = new KeyResolver([a, b, c]);

        Assert.Same(first, (await resolver.ResolveAsync("kid", CancellationToken.None)).Key);
        Assert.Same(first, resolver.TryGetCached("kid").Key);
        Assert.Equal(0, c.KidLookups);
    }

    [Theory]
    [InlineData(KeyLookupStatus.NotFound, KeyLookupStatus.NotFound, KeyLookupStatus.NotFound)]
    [InlineData(KeyLookupStatus.Unavailable, KeyLookupStatus.NotFound, KeyLookupStatus.Unavailable)]
    [InlineData(KeyLookupStatus.NotFound, KeyLookupStatus.Unavailable, KeyLookupStatus.Unavailable)]
    [InlineData(KeyLookupStatus.Miss, KeyLookupStatus.NotFound, KeyLookupStatus.Unavailable)]
    public async Task ResolveAsync_NoSourceHasIt_UnknownOnlyWhenAllSayNotFound(KeyLookupStatus first, KeyLookupStatus second, KeyLookupStatus expected)
    {
        using var resolver = new KeyResolver([new StubKeySource(new KeyLookup(first, null)), new StubKeySource(new KeyLookup(second, null))]);

        Assert.Equal(expected, (await resolver.ResolveAsync("kid", CancellationToken.None)).Status);
    }

    [Theory]
    [InlineData(KeyLookupStatus.NotFound, KeyLookupStatus.NotFound, KeyLookupStatus.NotFound)]
    [InlineData(KeyLookupStatus.Miss, KeyLookupStatus.Unavailable, KeyLookupStatus.Miss)]
    [InlineData(KeyLookupStatus.Unavailable, KeyLookupStatus.NotFound, KeyLookupStatus.Unavailable)]
    [InlineData(KeyLookupStatus.NotFound, KeyLookupStatus.Miss, KeyLookupStatus.Miss)]
    public void TryGetCached_NoSourceHasIt_MissBeatsUnavailableBeatsNotFound(KeyLookupStatus first, KeyLookupStatus second, KeyLookupStatus expected)
    {
        using var resolver = new KeyResolver([new StubKeySource(new KeyLookup(first, null)), new StubKeySource(new KeyLookup(second, null))]);

        Assert.Equal(expected, resolver.TryGetCached("kid").Status);
    }

    [Fact]
    public void GetDefault_FirstSourceOfferingOne_Wins()
    {
        var key = Key(SigningAlgorithm.EdDSA);
        using var resolver = new KeyResolver([new StubKeySource(KeyLookup.NotFound), new StubKeySource(KeyLookup.NotFound, defaultKey: KeyLookup.Found(key))]);

        Assert.Same(key, resolver.GetDefault().Key);
    }

    [Fact]
    public async Task VerifyAsync_SecondSourceHasKey_Valid()
    {
        var key = Key(SigningAlgorithm.ES256);
        using var rig = new VerifierRig(new StubKeySource(KeyLookup.Miss, resolved: KeyLookup.Found(key)));

        var result = await rig.VerifyAsync(TestTokens.Valid(SigningAlgorithm.ES256, rig.Time.GetUtcNow()));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal("k-ES256", result.Token!.Kid);
    }

    [Fact]
    public void Dispose_DisposesEverySource()
    {
        var disposed = 0;
        using (new KeyResolver([new DisposalProbe(() => disposed++), new DisposalProbe(() => disposed++)]))
        {
        }

        Assert.Equal(2, disposed);
    }

    private sealed class DisposalProbe(Action onDispose) : IKeySource
    {
        public string Name => "probe";

        public SourceReadiness Readiness => new(true, Name);

        public KeyLookup TryGetCached(ReadOnlySpan<char> kid) => KeyLookup.NotFound;

        public ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken) => new(KeyLookup.NotFound);

        public KeyLookup GetDefault() => KeyLookup.NotFound;

        public void Dispose() => onDispose();
    }
}
