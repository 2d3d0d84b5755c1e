using System.Net;
using System.Text.Json;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Smoke;

/// <summary>
/// The published Native AOT binary, run as processes: its own keygen and sign, serve on
/// 127.0.0.1, verify, and clean shutdown on SIGTERM. These fail (not skip) when the binary is
/// missing: the test script publishes it first.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PublishedBinaryTests : IDisposable
{
    private const string Issuer = "https://smoke.test";
    private const string Audience = "smoke";

    private readonly TempDirectory _dir = new();

    public PublishedBinaryTests()
    {
        Directory.CreateDirectory(KeyDir);
    }

    private string KeyDir => _dir.File("keys");

    private string PrivateKey => _dir.File("private.jwk");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Binary_IsPresentAndExecutable()
    {
        var path = PublishedBinary.Path;

        Assert.True(File.Exists(path), $"missing: {path}");
        Assert.True((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0, $"not executable: {path}");
    }

    [Fact]
    public void Binary_EmbedsTheGen0BudgetCap()
    {
        // The csproj passes --runtimeopt:GCGen0MaxBudget=400000 to the AOT compiler, which embeds it
        // as "name\0value\0" in the runtime's settings blob (read like DOTNET_GCGen0MaxBudget, in hex).
        var image = File.ReadAllBytes(PublishedBinary.Path);

        Assert.True(image.AsSpan().IndexOf("GCGen0MaxBudget\0400000\0"u8) >= 0, "the 4 MiB gen0 budget cap is not embedded in the binary");
    }

    private async Task<string> KeygenAndSignAsync(string kid = "smoke-key", params string[] extra)
    {
        var keygen = await ChildProcess.RunAsync(["keygen", "--kid", kid, "--out", PrivateKey, "--public-dir", KeyDir]);
        Assert.True(keygen.Exit == 0, keygen.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(PrivateKey));
        Assert.True(File.Exists(Path.Combine(KeyDir, kid + ".jwk")));

        var sign = await ChildProcess.RunAsync(["sign", "--key", PrivateKey, "--iss", Issuer, "--aud", Audience, "--sub", "smoke-user", "--ttl", "10m", .. extra]);
        Assert.True(sign.Exit == 0, sign.ToString());
        var token = sign.Output.Trim();
        Assert.Equal(3, token.Split('.').Length);
        return token;
    }

    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = parts[1].ToCharArray();
        var i = payload.Length / 2;
        payload[i] = payload[i] == 'A' ? 'B' : 'A';
        return $"{parts[0]}.{new string(payload)}.{parts[2]}";
    }

    private static HttpRequestMessage VerifyRequest(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return request;
    }

    private static async Task<int> StopAsync(ChildProcess server)
    {
        server.Terminate();
        return await server.WaitForExitAsync(ChildProcess.Bound);
    }

    [Fact]
    public async Task Serve_BinarySignedToken_200ThenTampered401ThenSigtermExits0()
    {
        var token = await KeygenAndSignAsync();
        var port = ChildProcess.FreePort();
        using var server = ChildProcess.Start(PublishedBinary.Path, ["serve", "--keys", KeyDir, "--issuer", Issuer, "--audience", Audience, "--urls", $"http://127.0.0.1:{port}"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = ChildProcess.Bound };

        await server.WaitHealthyAsync(client);

        using (var ok = await client.SendAsync(VerifyRequest(token)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("smoke-user", Assert.Single(ok.Headers.GetValues("X-Auth-Subject")));
            Assert.Equal(Issuer, Assert.Single(ok.Headers.GetValues("X-Auth-Issuer")));
        }

        using (var tampered = await client.SendAsync(VerifyRequest(Tamper(token))))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, tampered.StatusCode);
            Assert.StartsWith("Bearer error=\"invalid_token\"", Assert.Single(tampered.Headers.GetValues("WWW-Authenticate")), StringComparison.Ordinal);
            using var body = JsonDocument.Parse(await tampered.Content.ReadAsStringAsync());
            Assert.Equal("bad_signature", body.RootElement.GetProperty("error").GetString());
        }

        using (var missing = await client.GetAsync("/verify"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal("Bearer", Assert.Single(missing.Headers.GetValues("WWW-Authenticate")));
        }

        using (var ready = await client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        using (var api = await client.PostAsync("/v1/verify", new StringContent(JsonSerializer.Serialize(new Dictionary<string, string> { ["token"] = token }), System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
            using var body = JsonDocument.Parse(await api.Content.ReadAsStringAsync());
            Assert.Equal("smoke-user", body.RootElement.GetProperty("sub").GetString());
        }

        Assert.Equal(0, await StopAsync(server));
    }

    [Fact]
    public async Task Serve_ConfigFileInWorkingDirectoryAndFlagOverride_FlagIssuerWins()
    {
        // edgeverifier.json in the working directory names one issuer; --issuer replaces it.
        var token = await KeygenAndSignAsync();
        var workDir = Directory.CreateDirectory(_dir.File("work")).FullName;
        File.WriteAllText(Path.Combine(workDir, "edgeverifier.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Keys"] = KeyDir,
            ["Issuers"] = new[] { "https://only-in-json.test" },
            ["Audiences"] = new[] { Audience },
        }));
        var port = ChildProcess.FreePort();

        // First: the file alone. The token's issuer is not the file's, so it is refused.
        using (var fileOnly = ChildProcess.Start(PublishedBinary.Path, ["--urls", $"http://127.0.0.1:{port}"], workDir))
        using (var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = ChildProcess.Bound })
        {
            await fileOnly.WaitHealthyAsync(client);
            using var refused = await client.SendAsync(VerifyRequest(token));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("bad_issuer", body.RootElement.GetProperty("error").GetString());
            Assert.Equal(0, await StopAsync(fileOnly));
        }

        // Then: the flag replaces the file's issuer list.
        port = ChildProcess.FreePort();
        using var withFlag = ChildProcess.Start(PublishedBinary.Path, ["--issuer", Issuer, "--urls", $"http://127.0.0.1:{port}"], workDir);
        using var flagClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = ChildProcess.Bound };
        await withFlag.WaitHealthyAsync(flagClient);
        using (var accepted = await flagClient.SendAsync(VerifyRequest(token)))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        Assert.Equal(0, await StopAsync(withFlag));
    }

    [Fact]
    public async Task Serve_EnvironmentOverridesConfigFile_EnvironmentIssuerWins()
    {
        var token = await KeygenAndSignAsync();
        var config = _dir.File("settings.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Keys"] = KeyDir,
            ["Issuers"] = new[] { "https://json-1.test", "https://json-2.test" },
            ["Audiences"] = new[] { Audience },
        }));
        var port = ChildProcess.FreePort();
        using var server = ChildProcess.Start(
            PublishedBinary.Path,
            ["serve", "--config", config, "--urls", $"http://127.0.0.1:{port}"],
            environment: new Dictionary<string, string?> { ["EDGEVERIFIER_ISSUERS__0"] = Issuer });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = ChildProcess.Bound };

        await server.WaitHealthyAsync(client);

        using (var accepted = await client.SendAsync(VerifyRequest(token)))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        Assert.Equal(0, await StopAsync(server));
    }

    [Fact]
    public async Task Serve_KeysMissing_Exit2WithOneStderrLineNamingKeys()
    {
        var result = await ChildProcess.RunAsync(["serve", "--keys", "/nonexistent", "--issuer", Issuer, "--audience", Audience, "--urls", $"http://127.0.0.1:{ChildProcess.FreePort()}"]);

        Assert.Equal(2, result.Exit);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("Keys", line, StringComparison.Ordinal);
        Assert.Contains("/nonexistent", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999")]
    [InlineData("abc")]
    public async Task Serve_ClockSkewFromEnvironmentBad_Exit2WithOneLineNamingIt(string value)
    {
        var result = await ChildProcess.RunAsync(
            ["serve", "--keys", KeyDir, "--issuer", Issuer, "--audience", Audience, "--urls", $"http://127.0.0.1:{ChildProcess.FreePort()}"],
            environment: new Dictionary<string, string?> { ["EDGEVERIFIER_CLOCKSKEWSECONDS"] = value });

        Assert.Equal(2, result.Exit);
        Assert.Contains("ClockSkewSeconds", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_NoKeysAtAll_Exit2WithOneLineNamingKeys()
    {
        var result = await ChildProcess.RunAsync(["serve", "--issuer", Issuer, "--audience", Audience, "--urls", $"http://127.0.0.1:{ChildProcess.FreePort()}"], workingDirectory: _dir.Path);

        Assert.Equal(2, result.Exit);
        Assert.Contains("Keys", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_MalformedConfigFile_Exit2WithOneLineNamingFile()
    {
        var config = _dir.File("broken.json");
        File.WriteAllText(config, "{\"Issuers\": [");

        var result = await ChildProcess.RunAsync(["serve", "--config", config, "--keys", KeyDir, "--issuer", Issuer, "--audience", Audience]);

        Assert.Equal(2, result.Exit);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("broken.json", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Error_", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortInUse_Exit2WithOneLineNamingUrls()
    {
        using var occupied = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((IPEndPoint)occupied.LocalEndpoint).Port;

        var result = await ChildProcess.RunAsync(["serve", "--keys", KeyDir, "--issuer", Issuer, "--audience", Audience, "--urls", $"http://127.0.0.1:{port}"]);

        Assert.Equal(2, result.Exit);
        Assert.Contains("Urls", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_SignedToken_Exit0AndTamperedExit1()
    {
        var token = await KeygenAndSignAsync();

        var valid = await ChildProcess.RunAsync(["verify", "--keys", KeyDir, "--issuer", Issuer, "--audience", Audience, token]);
        Assert.True(valid.Exit == 0, valid.ToString());
        Assert.StartsWith("valid: sub=smoke-user", valid.FirstLine, StringComparison.Ordinal);

        var tampered = await ChildProcess.RunAsync(["verify", "--keys", KeyDir, "--issuer", Issuer, "--audience", Audience, Tamper(token)]);
        Assert.Equal(1, tampered.Exit);
        Assert.StartsWith("invalid: bad_signature", tampered.FirstLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_KeysPointingNowhere_Exit2NamingKeys()
    {
        var result = await ChildProcess.RunAsync(["verify", "--keys", "/nonexistent", "a.b.c"]);

        Assert.Equal(2, result.Exit);
        Assert.Contains("--keys", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_SignedToken_PrintsHeaderAndPayload()
    {
        var token = await KeygenAndSignAsync();

        var result = await ChildProcess.RunAsync(["inspect", token]);

        Assert.Equal(0, result.Exit);
        Assert.Contains("\"kid\": \"smoke-key\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"sub\": \"smoke-user\"", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_TtlAndExpTogether_Exit2WithOneLine()
    {
        await KeygenAndSignAsync();

        var result = await ChildProcess.RunAsync(["sign", "--key", PrivateKey, "--ttl", "1h", "--exp", "1893456000"]);

        Assert.Equal(2, result.Exit);
        Assert.Single(result.ErrorLines);
        Assert.Equal(string.Empty, result.Output);
    }

    [Fact]
    public async Task Keygen_BadAlg_Exit2()
    {
        var result = await ChildProcess.RunAsync(["keygen", "--alg", "none", "--out", PrivateKey]);

        Assert.Equal(2, result.Exit);
        Assert.Contains("--alg", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }
}
