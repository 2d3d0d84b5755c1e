using EdgeVerifier.Cli;
using EdgeVerifier.Configuration;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Policy;

/// <summary>
/// The <c>Introspection</c>, <c>Revocation</c> and <c>Policy</c> settings: bound from
/// <c>edgeverifier.json</c>, and a bad one stops <c>serve</c> with exit 2 and one line naming it.
/// </summary>
public sealed class AccessSettingsTests : IDisposable
{
    private readonly CliRunner _cli = new();
    private readonly TempDirectory _dir = new();

    public AccessSettingsTests()
    {
        Directory.CreateDirectory(_dir.File("keys"));
        File.WriteAllText(_dir.File("revoked.json"), "{}");
        File.WriteAllText(_dir.File("subjects.txt"), "# known\nalice\n\n  bob  \n");
    }

    public void Dispose() => _dir.Dispose();

    private string Config(string json)
    {
        var path = _dir.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    public static TheoryData<string, string> BadSettings() => new()
    {
        { "{\"Introspection\":{\"Endpoints\":[{\"Url\":\"https://as.example/introspect\"}]}}", "Introspection:Endpoints:0:Prefix" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"e\",\"Url\":\"https://as.example/i\"}]}}", "Introspection:Endpoints:0:Prefix" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"eyJhb\",\"Url\":\"https://as.example/i\"}]}}", "Introspection:Endpoints:0:Prefix" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"ev t\",\"Url\":\"https://as.example/i\"}]}}", "Introspection:Endpoints:0:Prefix" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"evt_\",\"Url\":\"https://a/i\"},{\"Prefix\":\"evt_\",\"Url\":\"https://b/i\"}]}}", "Introspection:Endpoints:1:Prefix" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"evt_\"}]}}", "Introspection:Endpoints:0:Url" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"evt_\",\"Url\":\"http://as.example/i\"}]}}", "Introspection:Endpoints:0:Url" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"evt_\",\"Url\":\"/relative\"}]}}", "Introspection:Endpoints:0:Url" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"evt_\",\"Url\":\"https://as.example/i\",\"ClientId\":\"edge\"}]}}", "Introspection:Endpoints:0" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"evt_\",\"Url\":\"https://as.example/i\",\"ClientId\":\"a\",\"ClientSecret\":\"b\",\"BearerToken\":\"c\"}]}}", "Introspection:Endpoints:0" },
        { "{\"Introspection\":{\"Endpoints\":[{\"Prefix\":\"evt_\",\"Url\":\"https://as.example/i\",\"CaFile\":\"/nope.pem\"}]}}", "Introspection:Endpoints:0:CaFile" },
        { "{\"Introspection\":{\"CacheTtlSeconds\":-1}}", "CacheTtlSeconds" },
        { "{\"Introspection\":{\"AttemptTimeoutMs\":2000,\"TotalTimeoutMs\":1000}}", "Introspection:TotalTimeoutMs" },
        { "{\"Introspection\":{\"Subjects\":[\"alice\"]}}", "Introspection:Subjects" },
        { "{\"Introspection\":{\"SubjectsFile\":\"/nope.txt\",\"Endpoints\":[{\"Prefix\":\"evt_\",\"Url\":\"https://as.example/i\"}]}}", "Introspection:SubjectsFile" },
        { "{\"Revocation\":{\"Url\":\"https://r.example/list\",\"Path\":\"/tmp/x\"}}", "Revocation" },
        { "{\"Revocation\":{\"Url\":\"http://r.example/list\"}}", "Revocation:Url" },
        { "{\"Revocation\":{\"Path\":\"/nope/revoked.json\"}}", "Revocation:Path" },
        { "{\"Revocation\":{\"Url\":\"https://r.example/list\",\"StalePolicy\":\"fail-sometimes\"}}", "Revocation:StalePolicy" },
        { "{\"Revocation\":{\"Url\":\"https://r.example/list\",\"RefreshSeconds\":60,\"MaxAgeSeconds\":60}}", "Revocation:MaxAgeSeconds" },
        { "{\"Revocation\":{\"RefreshSeconds\":0}}", "RefreshSeconds" },
        { "{\"Policy\":{\"RequiredScopes\":[\"a b\"]}}", "Policy:RequiredScopes" },
        { "{\"Policy\":{\"RequiredScopes\":[\"a\\\"b\"]}}", "Policy:RequiredScopes" },
        { "{\"Policy\":{\"RequiredScopes\":[\"a\",\"a\"]}}", "Policy:RequiredScopes" },
        { "{\"Policy\":{\"RequiredScopes\":[" + string.Join(',', Enumerable.Range(0, 33).Select(i => $"\"s{i}\"")) + "]}}", "Policy:RequiredScopes" },
        { "{\"Policy\":{\"PathScopeClaim\":\"sub\"}}", "Policy:PathScopeClaim" },
        { "{\"Policy\":{\"PathScopeClaim\":\"\"}}", "Policy:PathScopeClaim" },
        { "{\"Policy\":{\"PublicPaths\":[\"public/\"]}}", "Policy:PublicPaths" },
        { "{\"Policy\":{\"PublicPaths\":[\"/a/../b\"]}}", "Policy:PublicPaths" },
        { "{\"Policy\":{\"PublicPaths\":[\"/a%2fb\"]}}", "Policy:PublicPaths" },
        { "{\"Policy\":{\"QueryParameter\":\"access token\"}}", "Policy:QueryParameter" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Serve_BadAccessSetting_Exit2OneLineNamingIt(string json, string setting)
    {
        var result = await _cli.RunAsync("serve", "--config", Config(json), "--keys", _dir.File("keys"), "--issuer", "I", "--audience", "A", "--urls", "http://127.0.0.1:0")
            .WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(result.Exit == CliApp.BadSetting, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("edgeverifier: ", line, StringComparison.Ordinal);
        Assert.Contains(setting, line, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_AccessSections_BoundFromTheFile()
    {
        var config = Config($$"""
            {
              "Keys": {{Quote(_dir.File("keys"))}}, "Issuers": ["I"], "Audiences": ["A"],
              "Introspection": {
                "Endpoints": [ { "Prefix": "evt_", "Url": "https://as.example/introspect", "ClientId": "edge", "ClientSecret": "s" },
                               { "Prefix": "svc_", "Url": "http://127.0.0.1:9/introspect", "BearerToken": "t" } ],
                "CacheTtlSeconds": 30, "SubjectsFile": {{Quote(_dir.File("subjects.txt"))}}
              },
              "Revocation": { "Path": {{Quote(_dir.File("revoked.json"))}}, "RefreshSeconds": 5, "MaxAgeSeconds": 60, "StalePolicy": "fail-open" },
              "Policy": { "RequiredScopes": ["video:read", "edge"], "PathScopeClaim": "path", "PublicPaths": ["/public/"], "QueryParameter": "access_token" }
            }
            """);

        Assert.True(SettingsLoader.TryLoad(config, _ => { }, out var o, out _, out var error), error);

        Assert.Equal(2, o.Introspection.Endpoints.Length);
        Assert.Equal("svc_", o.Introspection.Endpoints[1].Prefix);
        Assert.Equal("t", o.Introspection.Endpoints[1].BearerToken);
        Assert.Equal(30, o.Introspection.CacheTtlSeconds);
        Assert.Equal("fail-open", o.Revocation.StalePolicy);
        Assert.Equal(["video:read", "edge"], o.Policy.RequiredScopes);
        Assert.Equal("access_token", o.Policy.QueryParameter);
    }

    [Fact]
    public void TryLoad_SampleSettingsFile_ValidAndEqualToTheDefaults()
    {
        // Found from this source file: the test binary may be built outside the repository (--artifacts-path).
        var directory = new DirectoryInfo(Path.GetDirectoryName(SourceFile())!);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EdgeVerifier.sln")))
        {
            directory = directory.Parent;
        }

        var sample = Path.Combine(directory!.FullName, "samples", "edgeverifier.json");

        Assert.True(SettingsLoader.TryLoad(sample, o => o.Keys = _dir.File("keys"), out var options, out _, out var error), error);

        // The sample lists every setting with its default: nulls stay unset, nothing is switched on.
        var defaults = new VerifierOptions();
        Assert.Empty(options.Introspection.Endpoints);
        Assert.Null(options.Introspection.SubjectsFile);
        Assert.Null(options.Revocation.Url);
        Assert.Null(options.Revocation.Path);
        Assert.Null(options.Policy.PathScopeClaim);
        Assert.Null(options.Policy.QueryParameter);
        Assert.Equal(defaults.Introspection.CacheTtlSeconds, options.Introspection.CacheTtlSeconds);
        Assert.Equal(defaults.Introspection.TotalTimeoutMs, options.Introspection.TotalTimeoutMs);
        Assert.Equal(defaults.Revocation.MaxAgeSeconds, options.Revocation.MaxAgeSeconds);
        Assert.Equal(defaults.Revocation.StalePolicy, options.Revocation.StalePolicy);
    }

    private static string SourceFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    [Fact]
    public void TryLoad_NothingSet_AccessDefaults()
    {
        Assert.True(SettingsLoader.TryLoad(null, o =>
        {
            o.Keys = _dir.File("keys");
            o.AnyIssuer = o.AnyAudience = true;
        }, out var options, out _, out var error), error);

        Assert.Empty(options.Introspection.Endpoints);
        Assert.Equal(60, options.Introspection.CacheTtlSeconds);
        Assert.Equal(100_000, options.Introspection.CacheMaxEntries);
        Assert.Equal(1000, options.Introspection.AttemptTimeoutMs);
        Assert.Null(options.Revocation.Url);
        Assert.Null(options.Revocation.Path);
        Assert.Equal(30, options.Revocation.RefreshSeconds);
        Assert.Equal(300, options.Revocation.MaxAgeSeconds);
        Assert.Equal("fail-closed", options.Revocation.StalePolicy);
        Assert.Empty(options.Policy.RequiredScopes);
        Assert.Null(options.Policy.PathScopeClaim);
        Assert.Empty(options.Policy.PublicPaths);
        Assert.Null(options.Policy.QueryParameter);
    }

    [Fact]
    public async Task SubjectsFile_UnknownSubject401NotCachedKnownOnes200()
    {
        await using var server = await IntrospectionServer.StartAsync();
        server.Active("evt_alice", "alice");
        server.Active("evt_bob", "bob");
        server.Active("evt_carol", "carol");
        server.Active("evt_dave", "dave");
        await using var host = await AccessHost.StartAsync(o =>
        {
            o.Introspection.Endpoints = [new() { Prefix = "evt_", Url = server.Url }];
            o.Introspection.SubjectsFile = _dir.File("subjects.txt");
            o.Introspection.Subjects = ["dave"];
        });

        foreach (var (token, expected) in new[] { ("evt_alice", "200 -"), ("evt_bob", "200 -"), ("evt_dave", "200 -"), ("evt_carol", "401 unknown_subject"), ("evt_carol", "401 unknown_subject") })
        {
            using var response = await host.VerifyAsync(token);
            Assert.Equal(expected, await AccessHost.OutcomeAsync(response));
        }

        Assert.Equal(2, server.CallsFor("evt_carol")); // refused answers are not cached
        Assert.Equal(1, server.CallsFor("evt_alice"));
    }
}
