using EdgeVerifier.Cli;
using EdgeVerifier.Configuration;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

/// <summary>Tests that set process-wide <c>EDGEVERIFIER_</c> variables run alone, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>
/// Settings precedence: defaults &lt; <c>edgeverifier.json</c> (<c>--config</c>) &lt;
/// <c>EDGEVERIFIER_</c> environment &lt; flags. Environment variables are restored afterwards.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class SettingsPrecedenceTests : IDisposable
{
    private readonly CliRunner _cli = new();
    private readonly TempDirectory _dir = new();
    private readonly Dictionary<string, string?> _saved = new(StringComparer.Ordinal);

    public SettingsPrecedenceTests()
    {
        Directory.CreateDirectory(_dir.File("keys"));
    }

    private string Keys => _dir.File("keys");

    private void SetEnvironment(string name, string? value)
    {
        if (!_saved.ContainsKey(name))
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
        }

        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        _dir.Dispose();
    }

    private string Config(string json)
    {
        var path = _dir.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private async Task<CliResult> ServeAsync(params string[] args) =>
        await _cli.RunAsync(["serve", .. args]).WaitAsync(TimeSpan.FromSeconds(10));

    private static VerifierOptions Load(string? config, Action<VerifierOptions>? flags = null)
    {
        Assert.True(SettingsLoader.TryLoad(config, flags ?? (_ => { }), out var options, out _, out var error), error);
        return options;
    }

    [Theory]
    [InlineData("99999")]
    [InlineData("-1")]
    [InlineData("abc")]
    public async Task Serve_ClockSkewFromEnvironmentOutOfRange_Exit2NamingClockSkewSeconds(string value)
    {
        SetEnvironment("EDGEVERIFIER_CLOCKSKEWSECONDS", value);

        var result = await ServeAsync("--keys", Keys, "--issuer", "I", "--audience", "A", "--urls", "http://127.0.0.1:0");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("ClockSkewSeconds", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_EnvironmentOverridesConfigFile_EnvironmentValueIsJudged()
    {
        // The file's ClockSkewSeconds is fine; the environment's (higher precedence) is not.
        var config = Config("{\"ClockSkewSeconds\": 30}");
        SetEnvironment("EDGEVERIFIER_CLOCKSKEWSECONDS", "4000");

        var result = await ServeAsync("--config", config, "--keys", Keys, "--issuer", "I", "--audience", "A");

        Assert.Equal(CliApp.BadSetting, result.Exit);
        Assert.Contains("ClockSkewSeconds", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_KeysFromEachLevel_HighestPrecedenceIsTheOneReported()
    {
        var config = Config($"{{\"Keys\": {Quote(_dir.File("from-json"))}, \"Issuers\": [\"I\"], \"Audiences\": [\"A\"]}}");

        var fromJson = await ServeAsync("--config", config);
        Assert.Contains("from-json", Assert.Single(fromJson.ErrorLines), StringComparison.Ordinal);

        SetEnvironment("EDGEVERIFIER_KEYS", _dir.File("from-env"));
        var fromEnvironment = await ServeAsync("--config", config);
        Assert.Contains("from-env", Assert.Single(fromEnvironment.ErrorLines), StringComparison.Ordinal);

        var fromFlag = await ServeAsync("--config", config, "--keys", _dir.File("from-flag"));
        Assert.Contains("from-flag", Assert.Single(fromFlag.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_NothingSet_Defaults()
    {
        var options = Load(null, o =>
        {
            o.Keys = Keys;
            o.AnyIssuer = true;
            o.AnyAudience = true;
        });

        Assert.Equal(60, options.ClockSkewSeconds);
        Assert.Equal(8192, options.MaxTokenBytes);
        Assert.Equal("http://127.0.0.1:8080", options.Urls);
        Assert.True(options.RequireExpiration);
        Assert.Empty(options.Issuers);
    }

    [Fact]
    public void TryLoad_ConfigFile_OverridesDefaults()
    {
        var config = Config($"{{\"Keys\": {Quote(Keys)}, \"Issuers\": [\"json-1\", \"json-2\"], \"Audiences\": [\"A\"], \"ClockSkewSeconds\": 5}}");

        var options = Load(config);

        Assert.Equal(["json-1", "json-2"], options.Issuers);
        Assert.Equal(5, options.ClockSkewSeconds);
    }

    [Fact]
    public void TryLoad_EnvironmentScalar_OverridesConfigFile()
    {
        var config = Config($"{{\"Keys\": {Quote(Keys)}, \"Issuers\": [\"I\"], \"Audiences\": [\"A\"], \"ClockSkewSeconds\": 5, \"MaxTokenBytes\": 4096}}");
        SetEnvironment("EDGEVERIFIER_CLOCKSKEWSECONDS", "7");

        var options = Load(config);

        Assert.Equal(7, options.ClockSkewSeconds);
        Assert.Equal(4096, options.MaxTokenBytes);
    }

    [Fact]
    public void TryLoad_EnvironmentList_ReplacesConfigFileListWhole()
    {
        // One environment element must not merge, index by index, with the file's longer list:
        // that would silently keep accepting "json-2".
        var config = Config($"{{\"Keys\": {Quote(Keys)}, \"Issuers\": [\"json-1\", \"json-2\"], \"Audiences\": [\"A\"]}}");
        SetEnvironment("EDGEVERIFIER_ISSUERS__0", "env-1");

        var options = Load(config);

        Assert.Equal(["env-1"], options.Issuers);
        Assert.Equal(["A"], options.Audiences);
    }

    [Fact]
    public void TryLoad_EnvironmentListSeveralElements_InIndexOrder()
    {
        var config = Config($"{{\"Keys\": {Quote(Keys)}, \"Issuers\": [\"json-1\"], \"Audiences\": [\"A\"]}}");
        SetEnvironment("EDGEVERIFIER_ISSUERS__10", "env-c");
        SetEnvironment("EDGEVERIFIER_ISSUERS__2", "env-b");
        SetEnvironment("EDGEVERIFIER_ISSUERS__0", "env-a");

        var options = Load(config);

        Assert.Equal(["env-a", "env-b", "env-c"], options.Issuers);
    }

    [Fact]
    public void TryLoad_Flag_OverridesEnvironmentAndConfigFile()
    {
        var config = Config($"{{\"Keys\": {Quote(_dir.File("json"))}, \"Issuers\": [\"json-1\", \"json-2\"], \"Audiences\": [\"A\"]}}");
        SetEnvironment("EDGEVERIFIER_ISSUERS__0", "env-1");
        SetEnvironment("EDGEVERIFIER_KEYS", _dir.File("env"));

        var options = Load(config, o =>
        {
            o.Keys = Keys;
            o.Issuers = ["flag-1"];
        });

        Assert.Equal(Keys, options.Keys);
        Assert.Equal(["flag-1"], options.Issuers);
    }

    [Fact]
    public void TryLoad_ClaimHeadersFromEnvironment_AddToConfigFileMap()
    {
        var config = Config($"{{\"Keys\": {Quote(Keys)}, \"Issuers\": [\"I\"], \"Audiences\": [\"A\"], \"ClaimHeaders\": {{\"role\": \"X-Auth-Role\"}}}}");
        SetEnvironment("EDGEVERIFIER_CLAIMHEADERS__tenant", "X-Auth-Tenant");

        var options = Load(config);

        Assert.Equal("X-Auth-Role", options.ClaimHeaders["role"]);
        Assert.Equal("X-Auth-Tenant", options.ClaimHeaders["tenant"]);
    }
}
