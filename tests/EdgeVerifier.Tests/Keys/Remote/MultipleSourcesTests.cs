using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Keys.Remote;

/// <summary>Several sources together: asked in order; a kid is unknown only when every source says so.</summary>
public sealed class MultipleSourcesTests
{
    [Fact]
    public async Task ResolveAsync_DirectoryAndJwks_EachKeyFromItsSource()
    {
        await using var server = await KeyServer.StartAsync();
        using var directory = new TempDirectory();
        var local = Key("local");
        var remote = Key("remote");
        TestKeys.WritePublic(directory.Path, local);
        server.SetJwks(remote);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = directory.Path;
            o.KeySources = [new KeySourceOptions { Keys = "jwks:" + server.JwksUrl }];
        });

        await harness.ExpectAsync(VerifyError.None, local);
        await harness.ExpectAsync(VerifyError.None, remote);
        await harness.ExpectAsync(VerifyError.UnknownKid, Key("neither"));
        Assert.Equal(2, harness.Resolver.Sources.Count);
        Assert.Equal(1, server.Count(KeyServer.JwksPath));
    }

    [Fact]
    public async Task ResolveAsync_JwksDownKidOnlyThere_UnavailableWhileDirectoryKeysServe()
    {
        await using var server = await KeyServer.StartAsync();
        server.Status = 503;
        using var directory = new TempDirectory();
        var local = Key("local");
        TestKeys.WritePublic(directory.Path, local);
        server.SetJwks(Key("remote"));
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = directory.Path;
            o.KeySources = [new KeySourceOptions { Keys = "jwks:" + server.JwksUrl }];
            o.Remote.MaxRetries = 0;
        });

        await harness.ExpectAsync(VerifyError.None, local);

        // The directory says "no such kid", the JWKS cannot answer: the verdict is "unavailable", not "unknown".
        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, Key("remote"));
    }

    [Fact]
    public async Task ResolveAsync_BaseUrlThenJwks_KidFoundInSecondAfterFirstSays404()
    {
        await using var directoryServer = await KeyServer.StartAsync();
        await using var setServer = await KeyServer.StartAsync();
        var inDirectory = Key("in-directory");
        var inSet = Key("in-set");
        directoryServer.PutKey(inDirectory);
        setServer.SetJwks(inSet);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = directoryServer.KeysUrl;
            o.KeySources = [new KeySourceOptions { Keys = "oidc:" + setServer.Issuer }];
        });

        await harness.ExpectAsync(VerifyError.None, inDirectory);
        await harness.ExpectAsync(VerifyError.None, inSet);
        await harness.ExpectAsync(VerifyError.None, inSet);
        await harness.ExpectAsync(VerifyError.UnknownKid, Key("nowhere"));
        await harness.ExpectAsync(VerifyError.UnknownKid, Key("nowhere"));

        // A cached hit in a later source answers without asking an earlier one, so the directory may not
        // have been asked for "in-set" at all (when the set was in before the first request); at most once.
        Assert.InRange(directoryServer.Count(KeyServer.KeyPath("in-set")), 0, 1);
        Assert.Equal(1, directoryServer.Count(KeyServer.KeyPath("nowhere"))); // asked once, the 404 remembered
        Assert.Equal(1, setServer.Count(KeyServer.JwksPath));
        Assert.Equal(0, setServer.Count(KeyServer.KeyPath("in-directory")));
    }
}
