using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Hosting;

/// <summary><c>TokenCacheEntries</c> and <c>RefusedTokenCacheEntries</c>: on by default, 0 turns each off.</summary>
public sealed class TokenCacheSettingsTests
{
    [Fact]
    public async Task Defaults_BothCachesOn()
    {
        await using var host = await AppHost.StartAsync();

        Assert.NotNull(host.App.Verifier.Cache);
        Assert.NotNull(host.App.Verifier.Refused);
    }

    [Fact]
    public async Task Zero_EachCacheOff()
    {
        await using var host = await AppHost.StartAsync(o =>
        {
            o.TokenCacheEntries = 0;
            o.RefusedTokenCacheEntries = 0;
        });

        Assert.Null(host.App.Verifier.Cache);
        Assert.Null(host.App.Verifier.Refused);
    }

    [Fact]
    public void Negative_RefusedTokenCacheEntries_NamedInTheOneLineError()
    {
        var options = new EdgeVerifier.Configuration.VerifierOptions
        {
            Keys = "/tmp",
            Issuers = [TestTokens.Issuer],
            Audiences = [TestTokens.Audience],
            RefusedTokenCacheEntries = -1,
        };

        var error = EdgeVerifier.Configuration.SettingsLoader.Validate(options);

        Assert.NotNull(error);
        Assert.Contains("RefusedTokenCacheEntries", error, StringComparison.Ordinal);
    }
}
