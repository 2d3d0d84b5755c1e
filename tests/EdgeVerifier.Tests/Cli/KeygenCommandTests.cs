using System.Text.Json;
using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

/// <summary><c>edgeverifier keygen</c>. File modes are POSIX; the product ships for Linux.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeygenCommandTests
{
    private readonly CliRunner _cli = new();

    [Theory]
    [InlineData("ES256", "EC")]
    [InlineData("ES384", "EC")]
    [InlineData("ES512", "EC")]
    [InlineData("RS256", "RSA")]
    [InlineData("PS256", "RSA")]
    [InlineData("EdDSA", "OKP")]
    public async Task Keygen_WithKid_WritesPrivateJwk0600AndPublicKidJwk(string alg, string kty)
    {
        using var dir = new TempDirectory();
        var publicDir = Directory.CreateDirectory(dir.File("public")).FullName;
        var privatePath = dir.File("private.jwk");

        var result = await _cli.RunAsync("keygen", "--alg", alg, "--kid", "my-key_1", "--out", privatePath, "--public-dir", publicDir);

        Assert.Equal(CliApp.Ok, result.Exit);
        Assert.Equal("kid: my-key_1", result.FirstLine);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privatePath));
        using var privateJwk = JsonDocument.Parse(File.ReadAllText(privatePath));
        Assert.Equal(kty, privateJwk.RootElement.GetProperty("kty").GetString());
        Assert.Equal("my-key_1", privateJwk.RootElement.GetProperty("kid").GetString());
        Assert.True(privateJwk.RootElement.TryGetProperty("d", out _));

        var publicPath = Path.Combine(publicDir, "my-key_1.jwk");
        using var publicJwk = JsonDocument.Parse(File.ReadAllText(publicPath));
        Assert.Equal(kty, publicJwk.RootElement.GetProperty("kty").GetString());
        Assert.Equal("my-key_1", publicJwk.RootElement.GetProperty("kid").GetString());
        foreach (var secret in (string[])["d", "p", "q", "dp", "dq", "qi"])
        {
            Assert.False(publicJwk.RootElement.TryGetProperty(secret, out _), $"public JWK carries '{secret}'");
        }

        Assert.Single(Directory.GetFiles(publicDir));
    }

    [Fact]
    public async Task Keygen_NoKid_GeneratesRandomBase64UrlKid()
    {
        using var dir = new TempDirectory();
        var publicDir = Directory.CreateDirectory(dir.File("public")).FullName;

        var first = await _cli.RunAsync("keygen", "--out", dir.File("a.jwk"), "--public-dir", publicDir);
        var second = await _cli.RunAsync("keygen", "--out", dir.File("b.jwk"), "--public-dir", publicDir);

        Assert.Equal(CliApp.Ok, first.Exit);
        Assert.Equal(CliApp.Ok, second.Exit);
        var kid1 = first.FirstLine["kid: ".Length..];
        var kid2 = second.FirstLine["kid: ".Length..];
        Assert.Matches("^[A-Za-z0-9_-]{22}$", kid1);
        Assert.NotEqual(kid1, kid2);
        Assert.True(File.Exists(Path.Combine(publicDir, kid1 + ".jwk")));
        Assert.True(File.Exists(Path.Combine(publicDir, kid2 + ".jwk")));
        using var jwk = JsonDocument.Parse(File.ReadAllText(dir.File("a.jwk")));
        Assert.Equal("ES256", jwk.RootElement.GetProperty("alg").GetString());
        Assert.Equal(kid1, jwk.RootElement.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task Keygen_ExistingWorldReadableFile_IsRewrittenWithMode0600()
    {
        using var dir = new TempDirectory();
        var privatePath = dir.File("private.jwk");
        File.WriteAllText(privatePath, "old content that is much longer than any key so truncation is visible ..........................................................................................................................................................................................................................................................");
        File.SetUnixFileMode(privatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var result = await _cli.RunAsync("keygen", "--kid", "k", "--out", privatePath);

        Assert.Equal(CliApp.Ok, result.Exit);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privatePath));
        using var jwk = JsonDocument.Parse(File.ReadAllText(privatePath));
        Assert.Equal("k", jwk.RootElement.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task Keygen_Hs256_PublicFileIsAlsoPrivateAndWarns()
    {
        using var dir = new TempDirectory();
        var publicDir = Directory.CreateDirectory(dir.File("public")).FullName;

        var result = await _cli.RunAsync("keygen", "--alg", "HS256", "--kid", "shared", "--out", dir.File("k.jwk"), "--public-dir", publicDir);

        Assert.Equal(CliApp.Ok, result.Exit);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(publicDir, "shared.jwk")));
        Assert.Contains("shared secret", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("XS256")]
    [InlineData("es256x")]
    [InlineData("")]
    public async Task Keygen_BadAlg_Exit2WithOneLineNamingAlg(string alg)
    {
        using var dir = new TempDirectory();

        var result = await _cli.RunAsync("keygen", "--alg", alg, "--out", dir.File("k.jwk"));

        Assert.Equal(CliApp.BadSetting, result.Exit);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("--alg", line, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("k.jwk")));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("has space")]
    [InlineData("dot.jwk")]
    public async Task Keygen_BadKid_Exit2WithOneLineNamingKid(string kid)
    {
        using var dir = new TempDirectory();
        var publicDir = Directory.CreateDirectory(dir.File("public")).FullName;

        var result = await _cli.RunAsync("keygen", "--kid", kid, "--out", dir.File("k.jwk"), "--public-dir", publicDir);

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--kid", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(publicDir));
    }

    [Fact]
    public async Task Keygen_PublicDirMissing_Exit2WithOneLineNamingPublicDir()
    {
        using var dir = new TempDirectory();

        var result = await _cli.RunAsync("keygen", "--out", dir.File("k.jwk"), "--public-dir", dir.File("nope"));

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--public-dir", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("k.jwk")));
    }

    [Fact]
    public async Task Keygen_OutMissing_Exit2()
    {
        var result = await _cli.RunAsync("keygen");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--out", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }
}
