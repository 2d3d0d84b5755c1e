using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

/// <summary><c>edgeverifier verify</c>: exit 0 valid, 1 invalid, 2 bad arguments.</summary>
public sealed class VerifyCommandTests
{
    private readonly CliRunner _cli = new();

    private async Task<string> SignAsync(CliKeys keys, params string[] extra)
    {
        var result = await _cli.RunAsync(["sign", "--key", keys.PrivateKey, "--iss", "I", "--aud", "A", "--sub", "bob", .. extra]);
        Assert.True(result.Exit == CliApp.Ok, result.ToString());
        return result.Output.Trim();
    }

    [Fact]
    public async Task Verify_SignedToken_Exit0WithIdentity()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = await SignAsync(keys);

        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "I", "--audience", "A", token);

        Assert.Equal(CliApp.Ok, result.Exit);
        Assert.Equal("valid: sub=bob iss=I kid=cli-key alg=ES256", result.FirstLine);
        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public async Task Verify_SingleKeyFile_Exit0()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = await SignAsync(keys);

        var result = await _cli.RunAsync("verify", "--keys", Path.Combine(keys.PublicDir, keys.Kid + ".jwk"), "--issuer", "I", "--audience", "A", token);

        Assert.True(result.Exit == CliApp.Ok, result.ToString());
    }

    [Fact]
    public async Task Verify_NoIssuerOrAudience_Exit0WithNoteOnStderr()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = await SignAsync(keys);

        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, token);

        Assert.Equal(CliApp.Ok, result.Exit);
        var note = Assert.Single(result.ErrorLines);
        Assert.Contains("issuer", note, StringComparison.Ordinal);
        Assert.Contains("audience", note, StringComparison.Ordinal);
    }

    public static TheoryData<int> TamperPositions() => new() { 0, 1, 2 };

    [Theory]
    [MemberData(nameof(TamperPositions))]
    public async Task Verify_TamperedToken_Exit1(int segment)
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = await SignAsync(keys);
        var parts = token.Split('.');

        // Flip one character in the middle of a segment (never the last, whose low bits may be padding).
        var chars = parts[segment].ToCharArray();
        var i = chars.Length / 2;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        parts[segment] = new string(chars);
        var tampered = string.Join('.', parts);

        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "I", "--audience", "A", tampered);

        Assert.Equal(CliApp.Failed, result.Exit);
        Assert.StartsWith("invalid: ", result.FirstLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_PayloadSwappedFromAnotherToken_Exit1BadSignature()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var mine = (await SignAsync(keys)).Split('.');
        var admin = (await SignAsync(keys, "--claim", "role=admin")).Split('.');

        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "I", "--audience", "A", $"{mine[0]}.{admin[1]}.{mine[2]}");

        Assert.Equal(CliApp.Failed, result.Exit);
        Assert.StartsWith("invalid: bad_signature", result.FirstLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_SignedByAnotherKeyWithSameKid_Exit1BadSignature()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        using var impostor = await CliKeys.CreateAsync(_cli);
        var token = await _cli.RunAsync("sign", "--key", impostor.PrivateKey, "--iss", "I", "--aud", "A");

        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "I", "--audience", "A", token.Output.Trim());

        Assert.Equal(CliApp.Failed, result.Exit);
        Assert.Equal("invalid: bad_signature: the token's signature does not verify", result.FirstLine);
    }

    [Fact]
    public async Task Verify_AfterExpiry_Exit1Expired()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = await SignAsync(keys, "--ttl", "10m");

        _cli.Time.Advance(TimeSpan.FromMinutes(12));
        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "I", "--audience", "A", token);

        Assert.Equal(CliApp.Failed, result.Exit);
        Assert.StartsWith("invalid: expired", result.FirstLine, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--issuer", "other", "bad_issuer")]
    [InlineData("--audience", "other", "bad_audience")]
    public async Task Verify_WrongIssuerOrAudience_Exit1(string flag, string value, string code)
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = await SignAsync(keys);

        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, flag, value, token);

        Assert.Equal(CliApp.Failed, result.Exit);
        Assert.StartsWith("invalid: " + code, result.FirstLine, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("a.b.c")]
    [InlineData("")]
    public async Task Verify_NotAToken_Exit1(string token)
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("verify", "--keys", keys.PublicDir, token);

        Assert.Equal(CliApp.Failed, result.Exit);
        Assert.StartsWith("invalid: ", result.FirstLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_KeysPointingNowhere_Exit2WithOneLineNamingKeys()
    {
        using var dir = new TempDirectory();

        var result = await _cli.RunAsync("verify", "--keys", dir.File("nowhere"), "a.b.c");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("--keys", line, StringComparison.Ordinal);
        Assert.Contains(dir.File("nowhere"), line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output);
    }

    [Fact]
    public async Task Verify_KeysFileNotAJwk_Exit2WithOneLineNamingKeys()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.jwk"), "{not json");

        var result = await _cli.RunAsync("verify", "--keys", dir.File("bad.jwk"), "a.b.c");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--keys", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_NoKeysFlag_Exit2()
    {
        var result = await _cli.RunAsync("verify", "a.b.c");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--keys", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }
}
