using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Keys;

/// <summary>
/// One JWK or JWKS file (DESIGN.md step 5): a single key needs no kid, a kid-bearing key only
/// matches its kid, a JWKS selects by kid, and a deleted file fails closed after the recheck.
/// </summary>
public sealed class FileKeySourceTests
{
    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(5);

    /// <summary>A harness whose key source is the file <c>keys.json</c> holding <paramref name="content"/>.</summary>
    private static VerifierHarness WithKeyFile(string content, out string path)
    {
        string? file = null;
        var harness = new VerifierHarness(o =>
        {
            file = Path.Combine(o.Keys!, "keys.json");
            File.WriteAllText(file, content);
            o.Keys = file;
        });
        path = file!;
        return harness;
    }

    private static string Token(VerifierHarness h, SigningKey key, string? kid) =>
        TestTokens.SignRaw(key, Jws.Header(key.Algorithm.Name(), kid), TestTokens.Payload(h.Time.GetUtcNow()));

    [Fact]
    public async Task VerifyAsync_SingleKidlessJwk_VerifiesTokensWithoutKid()
    {
        var key = TestKeys.For(SigningAlgorithm.ES256);
        using var h = WithKeyFile(JwkJson.Serialize(key.PublicJwk with { Kid = null }), out _);

        var result = await h.VerifyAsync(Token(h, key, kid: null));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Null(result.Token!.Kid);
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, key, kid: "")));
    }

    [Fact]
    public async Task VerifyAsync_SingleKidlessJwk_StandsForAnyKid()
    {
        var key = TestKeys.For(SigningAlgorithm.ES256);
        using var h = WithKeyFile(JwkJson.Serialize(key.PublicJwk with { Kid = null }), out _);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, key, kid: "whatever")));
    }

    [Fact]
    public async Task VerifyAsync_SingleKidlessJwkAndForeignSignature_BadSignature()
    {
        var key = TestKeys.For(SigningAlgorithm.ES256);
        using var other = TestKeys.Fresh(SigningAlgorithm.ES256, "other");
        using var h = WithKeyFile(JwkJson.Serialize(key.PublicJwk with { Kid = null }), out _);

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Token(h, other, kid: null)));
    }

    [Fact]
    public async Task VerifyAsync_SingleKidBearingJwk_MatchesOnlyItsKid()
    {
        var key = TestKeys.For(SigningAlgorithm.EdDSA);
        using var h = WithKeyFile(TestKeys.PublicJson(key), out _);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, key, kid: "k-EdDSA")));
        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, key, kid: "k-other")));
    }

    [Fact]
    public async Task VerifyAsync_SingleKidBearingJwkAndTokenWithoutKid_UsesTheOnlyKey()
    {
        var key = TestKeys.For(SigningAlgorithm.EdDSA);
        using var h = WithKeyFile(TestKeys.PublicJson(key), out _);

        var result = await h.VerifyAsync(Token(h, key, kid: null));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal("k-EdDSA", result.Token!.Kid);
    }

    [Fact]
    public async Task VerifyAsync_Base64UrlEncodedFile_Usable()
    {
        var key = TestKeys.For(SigningAlgorithm.PS256);
        using var h = WithKeyFile(Jws.B64(TestKeys.PublicJson(key)), out _);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, key, kid: "k-PS256")));
    }

    [Fact]
    public async Task VerifyAsync_JwksFile_SelectsByKid()
    {
        var es = TestKeys.For(SigningAlgorithm.ES256);
        var rs = TestKeys.For(SigningAlgorithm.RS256);
        var hs = TestKeys.For(SigningAlgorithm.HS512);
        using var h = WithKeyFile(JwkJson.Set(es.PublicJwk, rs.PublicJwk, hs.PublicJwk), out _);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, es, "k-ES256")));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, rs, "k-RS256")));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, hs, "k-HS512")));
        Assert.Equal(VerifyError.KeyAlgMismatch, await h.ErrorOfAsync(Token(h, es, "k-RS256")));
        Assert.Equal(VerifyError.UnknownKid, await h.ErrorOfAsync(Token(h, es, "k-ES384")));
        Assert.Equal(VerifyError.MissingKid, await h.ErrorOfAsync(Token(h, es, kid: null)));
    }

    [Fact]
    public async Task VerifyAsync_JwksFileWithOneKey_IsTheDefault()
    {
        var es = TestKeys.For(SigningAlgorithm.ES384);
        using var h = WithKeyFile(JwkJson.Set(es.PublicJwk), out _);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, es, kid: null)));
    }

    [Fact]
    public async Task VerifyAsync_KeyFileDeletedWhileServing_RefusedAfterRecheck()
    {
        var key = TestKeys.For(SigningAlgorithm.ES256);
        using var h = WithKeyFile(TestKeys.PublicJson(key), out var path);
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, key, "k-ES256")));

        File.Delete(path);
        h.Time.Advance(Recheck);

        Assert.True(
            await Eventually.TrueAsync(async () => await h.ErrorOfAsync(Token(h, key, "k-ES256")) == VerifyError.UnknownKid),
            "the deleted file's key was still accepted");
        Assert.Equal(VerifyError.MissingKid, await h.ErrorOfAsync(Token(h, key, kid: null)));
        Assert.False(h.Resolver.Sources[0].Readiness.Ready);
    }

    [Fact]
    public async Task VerifyAsync_KeyFileTurnedInvalidWhileServing_FailsClosed()
    {
        var key = TestKeys.For(SigningAlgorithm.ES256);
        using var h = WithKeyFile(TestKeys.PublicJson(key), out var path);
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Token(h, key, "k-ES256")));

        AtomicFile.Replace(path, JwkJson.Serialize(key.PrivateJwk));
        h.Time.Advance(Recheck);

        Assert.True(await Eventually.TrueAsync(async () => await h.ErrorOfAsync(Token(h, key, "k-ES256")) == VerifyError.UnknownKid));
    }

    [Fact]
    public async Task VerifyAsync_KeyFileRotatedWhileServing_NewKeyAcceptedOldRefused()
    {
        var before = TestKeys.For(SigningAlgorithm.ES256);
        using var after = TestKeys.Fresh(SigningAlgorithm.ES256, "k-ES256");
        using var h = WithKeyFile(TestKeys.PublicJson(before), out var path);

        // Atomic replace: an in-place rewrite can be read half-written by the watcher-triggered
        // reload, leaving no keys until the next recheck (fail-closed, bounded, but not what this test is about).
        AtomicFile.Replace(path, TestKeys.PublicJson(after));
        h.Time.Advance(Recheck);

        Assert.True(await Eventually.TrueAsync(async () => await h.ErrorOfAsync(Token(h, after, "k-ES256")) == VerifyError.None));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Token(h, before, "k-ES256")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("{\"keys\":[]}")]
    [InlineData("{\"keys\":[null]}")]
    [InlineData("not json")]
    public void Open_UnusableFile_NullWithReason(string content)
    {
        using var dir = new TempDirectory();
        using var loader = new KeyFileLoader();
        File.WriteAllText(dir.File("keys.json"), content);

        var source = FileKeySource.Open(dir.File("keys.json"), loader, new FakeTimeProvider(), Recheck, 2048, NullLogger.Instance, out var error);

        Assert.Null(source);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Open_MissingFile_NullWithReason()
    {
        using var dir = new TempDirectory();
        using var loader = new KeyFileLoader();

        Assert.Null(FileKeySource.Open(dir.File("absent.json"), loader, new FakeTimeProvider(), Recheck, 2048, NullLogger.Instance, out var error));
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_JwksWithDuplicateKid_NullWithReason()
    {
        using var dir = new TempDirectory();
        using var loader = new KeyFileLoader();
        var es = TestKeys.For(SigningAlgorithm.ES256).PublicJwk;
        File.WriteAllText(dir.File("keys.json"), JwkJson.Set(es, TestKeys.For(SigningAlgorithm.RS256).PublicJwk with { Kid = es.Kid }));

        Assert.Null(FileKeySource.Open(dir.File("keys.json"), loader, new FakeTimeProvider(), Recheck, 2048, NullLogger.Instance, out var error));
        Assert.Contains("twice", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryGetCached_JwksWithoutKidMatch_NotFoundAndNoDefault()
    {
        using var dir = new TempDirectory();
        using var loader = new KeyFileLoader();
        File.WriteAllText(dir.File("keys.json"), JwkJson.Set(TestKeys.For(SigningAlgorithm.ES256).PublicJwk, TestKeys.For(SigningAlgorithm.ES384).PublicJwk));
        using var source = FileKeySource.Open(dir.File("keys.json"), loader, new FakeTimeProvider(), Recheck, 2048, NullLogger.Instance, out _)!;

        Assert.Equal(KeyLookupStatus.Found, source.TryGetCached("k-ES384").Status);
        Assert.Equal(KeyLookupStatus.NotFound, source.TryGetCached("k-ES512").Status);
        Assert.Equal(KeyLookupStatus.NotFound, source.GetDefault().Status);
        Assert.True(source.Readiness.Ready);
    }
}
