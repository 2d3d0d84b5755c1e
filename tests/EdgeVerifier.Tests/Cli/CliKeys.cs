using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

/// <summary>A key pair made by <c>keygen</c> in a temp directory: the private JWK and a public key directory.</summary>
internal sealed class CliKeys : IDisposable
{
    private CliKeys(TempDirectory directory, string kid)
    {
        Directory = directory;
        Kid = kid;
    }

    public TempDirectory Directory { get; }

    public string Kid { get; }

    public string PrivateKey => Directory.File("private.jwk");

    public string PublicDir => Directory.File("keys");

    public static async Task<CliKeys> CreateAsync(CliRunner cli, string alg = "ES256", string kid = "cli-key")
    {
        var directory = new TempDirectory();
        System.IO.Directory.CreateDirectory(directory.File("keys"));
        var result = await cli.RunAsync("keygen", "--alg", alg, "--kid", kid, "--out", directory.File("private.jwk"), "--public-dir", directory.File("keys"));
        Assert.True(result.Exit == CliApp.Ok, result.ToString());
        return new CliKeys(directory, kid);
    }

    public void Dispose() => Directory.Dispose();
}
