using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

/// <summary>
/// <c>edgeverifier serve</c> refusing bad settings: exit 2 and exactly one line on stderr naming
/// the setting. (Start-up that succeeds is covered by the smoke tests against the real binary.)
/// </summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();
    private readonly TempDirectory _dir = new();

    public ServeCommandTests()
    {
        Directory.CreateDirectory(_dir.File("keys"));
    }

    private string Keys => _dir.File("keys");

    public void Dispose() => _dir.Dispose();

    // A run that unexpectedly starts serving must not hang the suite.
    private async Task<CliResult> RunAsync(params string[] args) =>
        await _cli.RunAsync(args).WaitAsync(TimeSpan.FromSeconds(10));

    private string Config(string json)
    {
        var path = _dir.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string AssertOneLineNaming(CliResult result, string setting)
    {
        Assert.True(result.Exit == CliApp.BadSetting, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("edgeverifier: ", line, StringComparison.Ordinal);
        Assert.Contains(setting, line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output);
        return line;
    }

    [Fact]
    public async Task Serve_KeysPathMissing_Exit2NamingKeys()
    {
        var line = AssertOneLineNaming(await RunAsync("serve", "--keys", _dir.File("missing"), "--issuer", "I", "--audience", "A", "--urls", "http://127.0.0.1:0"), "Keys");

        Assert.Contains(_dir.File("missing"), line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultCommand_KeysPathMissing_Exit2NamingKeys()
    {
        AssertOneLineNaming(await RunAsync("--keys", _dir.File("missing"), "--issuer", "I", "--audience", "A", "--urls", "http://127.0.0.1:0"), "Keys");
    }

    [Fact]
    public async Task Serve_NoKeys_Exit2NamingKeys()
    {
        AssertOneLineNaming(await RunAsync("serve", "--issuer", "I", "--audience", "A", "--urls", "http://127.0.0.1:0"), "Keys");
    }

    [Fact]
    public async Task Serve_KeysFileNotAJwk_Exit2NamingKeys()
    {
        var file = _dir.File("bad.jwk");
        File.WriteAllText(file, "{\"kty\":\"EC\"}");

        AssertOneLineNaming(await RunAsync("serve", "--keys", file, "--issuer", "I", "--audience", "A", "--urls", "http://127.0.0.1:0"), "Keys");
    }

    [Fact]
    public async Task Serve_NoIssuer_Exit2NamingIssuers()
    {
        AssertOneLineNaming(await RunAsync("serve", "--keys", Keys, "--audience", "A", "--urls", "http://127.0.0.1:0"), "Issuers");
    }

    [Fact]
    public async Task Serve_NoAudience_Exit2NamingAudiences()
    {
        AssertOneLineNaming(await RunAsync("serve", "--keys", Keys, "--issuer", "I", "--urls", "http://127.0.0.1:0"), "Audiences");
    }

    [Fact]
    public async Task Serve_EmptyIssuer_Exit2NamingIssuers()
    {
        AssertOneLineNaming(await RunAsync("serve", "--keys", Keys, "--issuer", "", "--audience", "A", "--urls", "http://127.0.0.1:0"), "Issuers");
    }

    public static TheoryData<string, string> BadConfigFiles() => new()
    {
        { "{\"ClockSkewSeconds\": 99999}", "ClockSkewSeconds" },
        { "{\"ClockSkewSeconds\": -1}", "ClockSkewSeconds" },
        { "{\"ClockSkewSeconds\": \"abc\"}", "ClockSkewSeconds" },
        { "{\"MaxTokenBytes\": 10}", "MaxTokenBytes" },
        { "{\"KeyRecheckSeconds\": 0}", "KeyRecheckSeconds" },
        { "{\"MinRsaKeyBits\": 512}", "MinRsaKeyBits" },
        { "{\"RetryAfterSeconds\": 0}", "RetryAfterSeconds" },
        { "{\"Algorithms\": [\"none\"]}", "Algorithms" },
        { "{\"ClaimHeaders\": {\"role\": \"X-Auth-Subject\"}}", "ClaimHeaders" },
        { "{\"ClaimHeaders\": {\"role\": \"Bad Header\"}}", "ClaimHeaders" },
        { "{\"Urls\": \"ftp://127.0.0.1:21\"}", "Urls" },
        { "{\"Urls\": \"not a url\"}", "Urls" },
        { "{\"RequiredClaims\": [" + string.Join(',', Enumerable.Range(0, 33).Select(i => $"\"c{i}\"")) + "]}", "RequiredClaims" },
    };

    [Theory]
    [MemberData(nameof(BadConfigFiles))]
    public async Task Serve_ConfigFileWithBadSetting_Exit2NamingSetting(string json, string setting)
    {
        var config = Config(json);

        AssertOneLineNaming(await RunAsync("serve", "--config", config, "--keys", Keys, "--issuer", "I", "--audience", "A"), setting);
    }

    [Theory]
    [InlineData("{\"Issuers\": ")]
    [InlineData("{\"Issuers\": [\"a\",]")]
    [InlineData("not json at all")]
    [InlineData("[1, 2]")]
    public async Task Serve_ConfigFileNotJsonObject_Exit2NamingFileAndPosition(string json)
    {
        var config = Config(json);

        var line = AssertOneLineNaming(await RunAsync("serve", "--config", config, "--keys", Keys, "--issuer", "I", "--audience", "A"), Path.GetFileName(config));

        Assert.DoesNotContain("Error_", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_ConfigFileMissing_Exit2NamingConfig()
    {
        AssertOneLineNaming(await RunAsync("serve", "--config", _dir.File("nope.json"), "--keys", Keys, "--issuer", "I", "--audience", "A"), "--config");
    }

    [Fact]
    public async Task Serve_ConfigSetsEverythingButFlagBreaksIt_FlagWins()
    {
        // The file alone is valid; the flag (higher precedence) points Keys somewhere missing.
        var config = Config($"{{\"Keys\": {System.Text.Json.JsonSerializer.Serialize(Keys)}, \"Issuers\": [\"I\"], \"Audiences\": [\"A\"], \"Urls\": \"http://127.0.0.1:0\"}}");

        var line = AssertOneLineNaming(await RunAsync("serve", "--config", config, "--keys", _dir.File("from-flag")), "Keys");

        Assert.Contains("from-flag", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_UnknownFlag_Exit2WithOneLine()
    {
        var result = await RunAsync("serve", "--no-such-flag", "--keys", Keys);

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Single(result.ErrorLines);
    }
}
