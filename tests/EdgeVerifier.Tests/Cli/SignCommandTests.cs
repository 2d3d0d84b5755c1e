using System.Buffers.Text;
using System.Text.Json;
using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

/// <summary><c>edgeverifier sign</c>, checked by decoding its output and by <c>edgeverifier verify</c>.</summary>
public sealed class SignCommandTests
{
    private readonly CliRunner _cli = new();

    private long Now => _cli.Time.GetUtcNow().ToUnixTimeSeconds();

    internal static JsonElement Segment(string token, int index)
    {
        var part = token.Trim().Split('.')[index];
        using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(part));
        return document.RootElement.Clone();
    }

    private async Task<string> SignAsync(CliKeys keys, params string[] extra)
    {
        var result = await _cli.RunAsync(["sign", "--key", keys.PrivateKey, .. extra]);
        Assert.True(result.Exit == CliApp.Ok, result.ToString());
        Assert.Equal(string.Empty, result.Error);
        return result.Output.Trim();
    }

    [Fact]
    public async Task Sign_Ttl_ExpiresRelativeToNowAndVerifies()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(keys, "--iss", "https://i.test", "--aud", "api", "--sub", "alice", "--ttl", "15m");

        var header = Segment(token, 0);
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        Assert.Equal("cli-key", header.GetProperty("kid").GetString());
        Assert.Equal("JWT", header.GetProperty("typ").GetString());
        var payload = Segment(token, 1);
        Assert.Equal("https://i.test", payload.GetProperty("iss").GetString());
        Assert.Equal("api", payload.GetProperty("aud").GetString());
        Assert.Equal("alice", payload.GetProperty("sub").GetString());
        Assert.Equal(Now, payload.GetProperty("iat").GetInt64());
        Assert.Equal(Now + 900, payload.GetProperty("exp").GetInt64());
        Assert.Matches("^[A-Za-z0-9_-]{22}$", payload.GetProperty("jti").GetString());

        var verify = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "https://i.test", "--audience", "api", token);
        Assert.Equal(CliApp.Ok, verify.Exit);
        Assert.Equal("valid: sub=alice iss=https://i.test kid=cli-key alg=ES256", verify.FirstLine);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("1h", 3600)]
    [InlineData("7d", 604800)]
    [InlineData("120", 120)]
    public async Task Sign_TtlUnits_SetExpiry(string ttl, long seconds)
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(keys, "--ttl", ttl);

        Assert.Equal(Now + seconds, Segment(token, 1).GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Sign_NoTtlNoExp_DefaultsToOneHour()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(keys);

        Assert.Equal(Now + 3600, Segment(token, 1).GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Sign_Exp_IsAbsolute()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(keys, "--exp", "1893456000");

        var payload = Segment(token, 1);
        Assert.Equal(1893456000, payload.GetProperty("exp").GetInt64());
        Assert.Equal(Now, payload.GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task Sign_TtlAndExp_Exit2WithOneLine()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--ttl", "1h", "--exp", "1893456000");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("--ttl", line, StringComparison.Ordinal);
        Assert.Contains("--exp", line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5m")]
    [InlineData("1w")]
    [InlineData("h")]
    [InlineData("1.5h")]
    [InlineData("99999999999d")]
    public async Task Sign_BadTtl_Exit2NamingTtl(string ttl)
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--ttl", ttl);

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--ttl", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_Claims_StringAndJsonValues()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(
            keys,
            "--claim", "role=admin",
            "--claim", "level=42",
            "--claim", "flag=true",
            "--claim", "groups=[\"a\",\"b\"]",
            "--claim", "obj={\"x\":{\"y\":null}}",
            "--claim", "quoted=\"7\"",
            "--claim", "text=not json {",
            "--claim", "eq=a=b",
            "--claim", "empty=");

        var payload = Segment(token, 1);
        Assert.Equal("admin", payload.GetProperty("role").GetString());
        Assert.Equal(42, payload.GetProperty("level").GetInt32());
        Assert.True(payload.GetProperty("flag").GetBoolean());
        Assert.Equal(["a", "b"], payload.GetProperty("groups").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, payload.GetProperty("obj").GetProperty("x").GetProperty("y").ValueKind);
        Assert.Equal("7", payload.GetProperty("quoted").GetString());
        Assert.Equal("not json {", payload.GetProperty("text").GetString());
        Assert.Equal("a=b", payload.GetProperty("eq").GetString());
        Assert.Equal(string.Empty, payload.GetProperty("empty").GetString());
    }

    [Theory]
    [InlineData("noequals")]
    [InlineData("=value")]
    public async Task Sign_BadClaim_Exit2NamingClaim(string claim)
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--claim", claim);

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--claim", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output);
    }

    [Theory]
    [InlineData("exp=5")]
    [InlineData("iat=5")]
    [InlineData("sub=other")]
    [InlineData("jti=x")]
    public async Task Sign_ClaimRepeatsAWrittenClaim_Exit2InsteadOfAnUnverifiableToken(string claim)
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--sub", "alice", "--claim", claim);

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--claim", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_SameClaimTwice_Exit2()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--claim", "role=a", "--claim", "role=b");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--claim", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_ClaimNbf_IsWrittenAndHonoured()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(keys, "--claim", $"nbf={Now + 3000}", "--ttl", "2h");

        Assert.Equal(Now + 3000, Segment(token, 1).GetProperty("nbf").GetInt64());
        var early = await _cli.RunAsync("verify", "--keys", keys.PublicDir, token);
        Assert.Equal(CliApp.Failed, early.Exit);
        Assert.StartsWith("invalid: not_yet_valid", early.FirstLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_SeveralAud_WritesArrayAndVerifiesForEach()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(keys, "--aud", "a1", "--aud", "a2", "--iss", "I");

        Assert.Equal(["a1", "a2"], Segment(token, 1).GetProperty("aud").EnumerateArray().Select(e => e.GetString()));
        foreach (var audience in (string[])["a1", "a2"])
        {
            var verify = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "I", "--audience", audience, token);
            Assert.Equal(CliApp.Ok, verify.Exit);
        }

        var other = await _cli.RunAsync("verify", "--keys", keys.PublicDir, "--issuer", "I", "--audience", "a3", token);
        Assert.Equal(CliApp.Failed, other.Exit);
        Assert.StartsWith("invalid: bad_audience", other.FirstLine, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ES384")]
    [InlineData("ES512")]
    [InlineData("RS256")]
    [InlineData("RS512")]
    [InlineData("PS384")]
    [InlineData("EdDSA")]
    [InlineData("HS256")]
    [InlineData("HS512")]
    public async Task Sign_EveryKeyType_VerifiesWithItsPublicKey(string alg)
    {
        using var keys = await CliKeys.CreateAsync(_cli, alg, "k-" + alg);

        var token = await SignAsync(keys, "--sub", "s");

        Assert.Equal(alg, Segment(token, 0).GetProperty("alg").GetString());
        var verify = await _cli.RunAsync("verify", "--keys", keys.PublicDir, token);
        Assert.True(verify.Exit == CliApp.Ok, verify.ToString());
    }

    [Fact]
    public async Task Sign_KidOverride_GoesIntoHeader()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var token = await SignAsync(keys, "--kid", "other-kid");

        Assert.Equal("other-kid", Segment(token, 0).GetProperty("kid").GetString());
        var verify = await _cli.RunAsync("verify", "--keys", keys.PublicDir, token);
        Assert.Equal(CliApp.Failed, verify.Exit);
        Assert.StartsWith("invalid: unknown_kid", verify.FirstLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_KeyMissing_Exit2NamingKey()
    {
        using var dir = new TempDirectory();

        var result = await _cli.RunAsync("sign", "--key", dir.File("nope.jwk"));

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--key", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_PublicKeyInsteadOfPrivate_Exit2NamingKey()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("sign", "--key", Path.Combine(keys.PublicDir, keys.Kid + ".jwk"));

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("--key", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_AlgDisagreesWithKey_Exit2()
    {
        using var keys = await CliKeys.CreateAsync(_cli);

        var result = await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--alg", "RS256");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Single(result.ErrorLines);
        Assert.Equal(string.Empty, result.Output);
    }
}
