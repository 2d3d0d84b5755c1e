using System.Text;
using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Keys;

/// <summary>
/// <c>{dir}/{kid}.jwk</c> keys (DESIGN.md step 5): a key added while serving becomes usable, a key
/// removed is refused within the recheck bound, a mismatched kid is refused, and one load serves
/// concurrent callers. Clock-driven freshness uses the fake clock; real waiting is only bounded
/// polling for the background file read or watcher event.
/// </summary>
public sealed class DirectoryKeySourceTests
{
    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(5); // VerifierOptions.KeyRecheckSeconds default

    private static string Token(VerifierHarness h, SigningKey key, string? kid = null) =>
        TestTokens.Sign(key, TestTokens.Payload(h.Time.GetUtcNow()), kid);

    [Fact]
    public async Task VerifyAsync_KeyFileAddedWhileServing_UsableAfterRecheck()
    {
        using var h = new VerifierHarness();
        using var late = TestKeys.Fresh(SigningAlgorithm.ES256, "late");
        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, late)));

        TestKeys.WritePublic(h.Directory.Path, late);
        h.Time.Advance(Recheck);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, late)));
    }

    [Fact]
    public async Task VerifyAsync_KeyFileAddedWhileServing_UsableThroughWatcherWithoutClockAdvance()
    {
        using var h = new VerifierHarness();
        using var late = TestKeys.Fresh(SigningAlgorithm.ES256, "late-watched");
        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, late)));

        TestKeys.WritePublic(h.Directory.Path, late);

        Assert.True(
            await Eventually.TrueAsync(async () => await h.ErrorOfAsync(Token(h, late)) == VerifyError.None),
            "the watcher did not make the new key usable within the deadline");
    }

    [Fact]
    public async Task VerifyAsync_UnknownKidWithinRecheck_StillUnknownFromNegativeCache()
    {
        using var h = new VerifierHarness();
        using var unknown = TestKeys.Fresh(SigningAlgorithm.ES256, "never");

        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, unknown)));
        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, unknown)));
    }

    [Fact]
    public async Task VerifyAsync_KeyFileRemovedWhileServing_RefusedWithinRecheckBound()
    {
        using var h = new VerifierHarness();
        using var doomed = TestKeys.Fresh(SigningAlgorithm.ES256, "doomed");
        var path = TestKeys.WritePublic(h.Directory.Path, doomed);
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, doomed)));

        File.Delete(path);
        h.Time.Advance(Recheck);

        // Within the bound: the recheck interval plus one background file read; no more clock time passes.
        Assert.True(
            await Eventually.TrueAsync(async () => await h.ErrorOfAsync(Token(h, doomed)) == VerifyError.UnknownKid),
            "the removed key was still accepted");
        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, doomed)));
    }

    [Fact]
    public async Task VerifyAsync_KeyFileReplacedWithNewKeySameKid_OldRefusedNewAccepted()
    {
        using var h = new VerifierHarness();
        using var before = TestKeys.Fresh(SigningAlgorithm.ES256, "rotating");
        using var after = TestKeys.Fresh(SigningAlgorithm.ES256, "rotating");
        TestKeys.WritePublic(h.Directory.Path, before);
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, before)));

        AtomicFile.Replace(h.Directory.File("rotating.jwk"), TestKeys.PublicJson(after));
        h.Time.Advance(Recheck);

        Assert.True(await Eventually.TrueAsync(async () => await h.ErrorOfAsync(Token(h, after)) == VerifyError.None));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Token(h, before)));
    }

    [Fact]
    public async Task VerifyAsync_FileKidDiffersFromFileName_Refused()
    {
        using var h = new VerifierHarness();
        using var key = TestKeys.Fresh(SigningAlgorithm.ES256, "alpha");
        TestKeys.WritePublic(h.Directory.Path, key, kid: "beta"); // beta.jwk holding kid "alpha"

        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, key, kid: "beta")));
        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, key, kid: "alpha")));
    }

    [Fact]
    public async Task VerifyAsync_FileWithoutOwnKid_TakesKidFromFileName()
    {
        using var h = new VerifierHarness();
        using var key = TestKeys.Fresh(SigningAlgorithm.ES256, "named-by-file");
        File.WriteAllText(h.Directory.File("named-by-file.jwk"), JwkJson.Serialize(key.PublicJwk with { Kid = null }));

        var result = await h.VerifyAsync(Token(h, key));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal("named-by-file", result.Token!.Kid);
    }

    [Fact]
    public async Task VerifyAsync_Base64UrlEncodedKeyFile_Usable()
    {
        using var h = new VerifierHarness();
        using var key = TestKeys.Fresh(SigningAlgorithm.EdDSA, "b64-file");
        File.WriteAllText(h.Directory.File("b64-file.jwk"), Jws.B64(TestKeys.PublicJson(key)) + "\n");

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, key)));
    }

    [Theory]
    [InlineData("private")]
    [InlineData("jwks")]
    [InlineData("empty")]
    [InlineData("garbage")]
    [InlineData("null-in-set")]
    [InlineData("too-large")]
    public async Task VerifyAsync_UnusableKeyFile_UnknownKid(string what)
    {
        using var h = new VerifierHarness();
        using var key = TestKeys.Fresh(SigningAlgorithm.ES256, "bad-file");
        var content = what switch
        {
            "private" => JwkJson.Serialize(key.PrivateJwk),
            "jwks" => JwkJson.Set(key.PublicJwk, TestKeys.For(SigningAlgorithm.ES384).PublicJwk with { Kid = "bad-file" }),
            "empty" => "",
            "garbage" => "not a key",
            "null-in-set" => "{\"keys\":[null]}",
            _ => TestKeys.PublicJson(key).TrimEnd('}') + ",\"pad\":\"" + new string('p', JwkReader.MaxDocumentBytes) + "\"}",
        };
        File.WriteAllText(h.Directory.File("bad-file.jwk"), content);

        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, key)));
    }

    [Fact]
    public async Task ResolveAsync_ManyConcurrentCallsForOneUncachedKid_AllGetTheSameKey()
    {
        using var keys = new TempDirectory();
        using var loader = new KeyFileLoader();
        var time = new FakeTimeProvider(VerifierHarness.Start);
        using var key = TestKeys.Fresh(SigningAlgorithm.ES256, "shared");
        TestKeys.WritePublic(keys.Path, key);
        using var source = new DirectoryKeySource(keys.Path, loader, time, Recheck, 2048, NullLogger.Instance);
        using var start = new ManualResetEventSlim();

        var calls = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await source.ResolveAsync("shared", CancellationToken.None);
        })).ToArray();
        start.Set();
        var lookups = await Task.WhenAll(calls);

        Assert.All(lookups, l => Assert.Equal(KeyLookupStatus.Found, l.Status));
        var first = lookups[0].Key!;
        Assert.All(lookups, l => Assert.Same(first, l.Key));
        Assert.Same(first, source.TryGetCached("shared").Key);
    }

    [Fact]
    public async Task VerifyAsync_ManyConcurrentRequestsForOneUncachedKid_AllValid()
    {
        using var h = new VerifierHarness();
        using var key = TestKeys.Fresh(SigningAlgorithm.EdDSA, "burst");
        TestKeys.WritePublic(h.Directory.Path, key);
        var token = Token(h, key);

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => h.VerifyAsync(token))));

        Assert.All(results, r => Assert.Equal(VerifyError.None, r.Error));
    }

    [Fact]
    public async Task TryGetCached_AnswersFollowRecheckInterval()
    {
        using var keys = new TempDirectory();
        using var loader = new KeyFileLoader();
        var time = new FakeTimeProvider(VerifierHarness.Start);
        using var key = TestKeys.Fresh(SigningAlgorithm.ES256, "cached");
        TestKeys.WritePublic(keys.Path, key);
        using var source = new DirectoryKeySource(keys.Path, loader, time, Recheck, 2048, NullLogger.Instance);

        Assert.Equal(KeyLookupStatus.Miss, source.TryGetCached("cached").Status);
        Assert.Equal(KeyLookupStatus.Miss, source.TryGetCached("absent").Status);

        var found = await source.ResolveAsync("cached", CancellationToken.None);
        Assert.Equal(KeyLookupStatus.NotFound, (await source.ResolveAsync("absent", CancellationToken.None)).Status);

        Assert.Same(found.Key, source.TryGetCached("cached").Key);
        Assert.Equal(KeyLookupStatus.NotFound, source.TryGetCached("absent").Status);

        time.Advance(Recheck);

        // Stale positive: still served (its re-read runs in the background); stale negative: asked again.
        Assert.Same(found.Key, source.TryGetCached("cached").Key);
        Assert.Equal(KeyLookupStatus.Miss, source.TryGetCached("absent").Status);

        // The background re-read of unchanged content keeps the very same key instance.
        Assert.Same(found.Key, (await source.ResolveAsync("cached", CancellationToken.None)).Key);
    }

    [Fact]
    public void GetDefault_DirectorySource_NeverHasADefault()
    {
        using var keys = new TempDirectory();
        using var loader = new KeyFileLoader();
        TestKeys.WritePublic(keys.Path, TestKeys.For(SigningAlgorithm.ES256));
        using var source = new DirectoryKeySource(keys.Path, loader, new FakeTimeProvider(), Recheck, 2048, NullLogger.Instance);

        Assert.Equal(KeyLookupStatus.NotFound, source.GetDefault().Status);
    }

    [Fact]
    public async Task Readiness_DirectoryDeleted_NotReadyAndKeysUnknown()
    {
        var keys = new TempDirectory();
        using var loader = new KeyFileLoader();
        var time = new FakeTimeProvider(VerifierHarness.Start);
        TestKeys.WritePublic(keys.Path, TestKeys.For(SigningAlgorithm.ES256));
        using var source = new DirectoryKeySource(keys.Path, loader, time, Recheck, 2048, NullLogger.Instance);
        Assert.True(source.Readiness.Ready);

        keys.Dispose();

        Assert.False(source.Readiness.Ready);
        Assert.Contains("missing", source.Readiness.Detail, StringComparison.Ordinal);
        Assert.Equal(KeyLookupStatus.NotFound, (await source.ResolveAsync("k-ES256", CancellationToken.None)).Status);
    }

    [Fact]
    public async Task ResolveAsync_CallerCancelled_SharedLoadStillCompletesForOthers()
    {
        using var keys = new TempDirectory();
        using var loader = new KeyFileLoader();
        var time = new FakeTimeProvider(VerifierHarness.Start);
        using var key = TestKeys.Fresh(SigningAlgorithm.ES256, "cancel");
        TestKeys.WritePublic(keys.Path, key);
        using var source = new DirectoryKeySource(keys.Path, loader, time, Recheck, 2048, NullLogger.Instance);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        // The cancelled caller stops waiting, unless the dedicated reader thread already finished the
        // load (then the result is simply returned): either is right; what matters is the shared load.
        var abandoned = await Record.ExceptionAsync(async () => await source.ResolveAsync("cancel", cancelled.Token));
        Assert.True(abandoned is null or OperationCanceledException, abandoned?.ToString());

        Assert.Equal(KeyLookupStatus.Found, (await source.ResolveAsync("cancel", CancellationToken.None)).Status);
    }

    [Fact]
    public void KeyFileLoaderRead_Directory_IoErrorNotMissing()
    {
        using var keys = new TempDirectory();
        Directory.CreateDirectory(keys.File("dir.jwk"));

        var read = KeyFileLoader.Read(keys.File("dir.jwk"));

        Assert.Equal(FileReadStatus.IoError, read.Status);
        Assert.Equal(FileReadStatus.Missing, KeyFileLoader.Read(keys.File("nope.jwk")).Status);
        File.WriteAllBytes(keys.File("ok.jwk"), Encoding.UTF8.GetBytes("{}"));
        Assert.Equal(FileReadStatus.Ok, KeyFileLoader.Read(keys.File("ok.jwk")).Status);
    }
}
