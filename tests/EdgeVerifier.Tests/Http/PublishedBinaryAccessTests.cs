using System.Net;
using System.Text.Json;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Http;

/// <summary>
/// The published Native AOT binary with introspection, a revocation list and the access policy
/// configured from a settings file: what the trimmed, source-generated build binds and answers is
/// what the in-process tests assert. Fails (not skips) when the binary is missing.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PublishedBinaryAccessTests : IDisposable
{
    private const string Issuer = "https://smoke.test";
    private const string Audience = "smoke";

    private readonly TempDirectory _dir = new();

    public PublishedBinaryAccessTests()
    {
        Directory.CreateDirectory(_dir.File("keys"));
    }

    public void Dispose() => _dir.Dispose();

    private async Task<string> SignAsync(string sub, params string[] claims)
    {
        var sign = await ChildProcess.RunAsync(["sign", "--key", _dir.File("private.jwk"), "--iss", Issuer, "--aud", Audience, "--sub", sub, "--ttl", "10m", .. claims.SelectMany(c => new[] { "--claim", c })]);
        Assert.True(sign.Exit == 0, sign.ToString());
        return sign.Output.Trim();
    }

    private static async Task<string> OutcomeAsync(HttpClient client, string? token, string? target = null, string path = "/verify")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (target is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Original-URI", target);
        }

        using var response = await client.SendAsync(request);
        return await AccessHost.OutcomeAsync(response);
    }

    [Fact]
    public async Task Serve_AccessSettingsFromFile_EveryRuleAnswers()
    {
        var keygen = await ChildProcess.RunAsync(["keygen", "--kid", "smoke-key", "--out", _dir.File("private.jwk"), "--public-dir", _dir.File("keys")]);
        Assert.True(keygen.Exit == 0, keygen.ToString());
        await using var introspection = await IntrospectionServer.StartAsync();
        introspection.Active("evt_good", "opaque-user", "\"scope\":\"video:read\"");
        introspection.Answer("evt_gone", "{\"active\":false}");
        File.WriteAllText(_dir.File("revoked.json"), "{\"sub\":[\"mallory\"]}");
        var config = _dir.File("settings.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Keys"] = _dir.File("keys"),
            ["Issuers"] = new[] { Issuer },
            ["Audiences"] = new[] { Audience },
            ["Introspection"] = new Dictionary<string, object> { ["Endpoints"] = new[] { new Dictionary<string, string> { ["Prefix"] = "evt_", ["Url"] = introspection.Url, ["ClientId"] = "edge", ["ClientSecret"] = "s" } } },
            ["Revocation"] = new Dictionary<string, object> { ["Path"] = _dir.File("revoked.json") },
            ["Policy"] = new Dictionary<string, object>
            {
                ["RequiredScopes"] = new[] { "video:read" },
                ["PathScopeClaim"] = "path",
                ["PublicPaths"] = new[] { "/public/" },
                ["QueryParameter"] = "access_token",
            },
        }));
        var reader = await SignAsync("alice", "scope=video:read", "path=/videos/1");
        var noScope = await SignAsync("bob");
        var revoked = await SignAsync("mallory", "scope=video:read");
        var port = ChildProcess.FreePort();
        using var server = ChildProcess.Start(PublishedBinary.Path, ["serve", "--config", config, "--urls", $"http://127.0.0.1:{port}"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = ChildProcess.Bound };

        // Ready once the revocation list is loaded (fail-closed until then).
        var ready = await Eventually.TrueAsync(async () =>
        {
            Assert.False(server.HasExited, $"serve exited; stderr: {server.Error}");
            try
            {
                using var response = await client.GetAsync("/readyz");
                return response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadAsStringAsync()).Contains("1 sub", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, ChildProcess.Bound);
        Assert.True(ready, $"not ready; stderr: {server.Error}");

        Assert.Equal("200 -", await OutcomeAsync(client, "evt_good"));
        Assert.Equal("401 inactive_token", await OutcomeAsync(client, "evt_gone"));
        Assert.Equal("200 -", await OutcomeAsync(client, reader, "/videos/1/a.ts"));
        Assert.Equal("403 path_not_allowed", await OutcomeAsync(client, reader, "/videos/1/../2/a.ts"));
        Assert.Equal("403 insufficient_scope", await OutcomeAsync(client, noScope));
        Assert.Equal("401 revoked", await OutcomeAsync(client, revoked));
        Assert.Equal("200 -", await OutcomeAsync(client, null, "/public/logo.png"));
        Assert.Equal("200 -", await OutcomeAsync(client, null, "/videos/1/a.ts?access_token=" + reader));
        Assert.Equal(1, introspection.CallsFor("evt_good"));

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(ChildProcess.Bound));
        Assert.DoesNotContain(reader, server.Output + server.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_BadAccessSetting_Exit2OneLine()
    {
        var result = await ChildProcess.RunAsync(["serve", "--keys", _dir.File("keys"), "--issuer", Issuer, "--audience", Audience, "--urls", "http://127.0.0.1:0"],
            environment: new Dictionary<string, string?> { ["EDGEVERIFIER_REVOCATION__STALEPOLICY"] = "sometimes", ["EDGEVERIFIER_REVOCATION__URL"] = "https://r.example/list" });

        Assert.Equal(2, result.Exit);
        Assert.Contains("Revocation:StalePolicy", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }
}
